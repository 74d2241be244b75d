//! Raw captures: every fetched body kept byte for byte, content-addressed in the data dir.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where the capture of bytes with this SHA-256 lives, relative to the data dir.
pub fn relative_path(sha256: &str) -> String {
    let relative: PathBuf = ["captures", sha256.get(..2).unwrap_or("00"), sha256]
        .iter()
        .collect();
    relative.to_string_lossy().into_owned()
}

/// Writes `body` under `captures/ab/abcdef…` (once; the same bytes share one file) and
/// returns its path relative to the data dir. The file is synced before returning.
/// (Listings are kept so; batches of pages go into packs, see [`PackWriter`].)
pub fn save(data_dir: &Path, sha256: &str, body: &[u8]) -> std::io::Result<String> {
    let relative = relative_path(sha256);
    let path = data_dir.join(&relative);
    if !path.exists() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // A name of its own per writer: two workers may keep the same bytes at once.
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let tmp = path.with_extension(format!("{}-{seq}.tmp", std::process::id()));
        {
            use std::io::Write;
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(body)?;
            file.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
    }
    Ok(relative)
}

/// Where each body of a pack starts: its file (relative to the data dir) and offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack {
    pub path: String,
    /// Offset of each body given to [`PackWriter::append`], in order.
    pub offsets: Vec<u64>,
}

/// A pack takes batches until it holds this many bytes…
const PACK_MAX_BYTES: u64 = 64 << 20;
/// …or was opened this long ago. Retention keeps captures for whole days, so a pack
/// still taking batches never holds an expired capture (and is never emptied).
const PACK_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Keeps the bodies of crawl batches in pack files: each batch is appended to the pack
/// this process has open (`captures/packs/<millis>-<pid>-<seq>.pack`, a name no other
/// writer uses) and synced before its rows are written, so a row never names bytes that
/// are not on disk. Bytes once written never change; a batch whose rows were never
/// written (a crash) leaves bytes no row names, which cost space and nothing else.
/// One file per many batches: creating files is the costly part on some filesystems.
#[derive(Default)]
pub struct PackWriter {
    open: std::sync::Mutex<Option<OpenPack>>,
}

struct OpenPack {
    file: std::sync::Arc<std::fs::File>,
    relative: String,
    end: u64,
    opened: std::time::Instant,
}

impl OpenPack {
    fn create(data_dir: &Path) -> std::io::Result<Self> {
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let relative: PathBuf = [
            "captures",
            "packs",
            &format!("{millis}-{}-{seq}.pack", std::process::id()),
        ]
        .iter()
        .collect();
        let path = data_dir.join(&relative);
        let parent = path.parent().unwrap_or(data_dir);
        std::fs::create_dir_all(parent)?;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        // The new name itself is made durable once, here (each batch then syncs its
        // data). Best effort: not every platform syncs a directory opened as a file.
        if let Ok(dir) = std::fs::File::open(parent) {
            let _ = dir.sync_all();
        }
        Ok(Self {
            file: std::sync::Arc::new(file),
            relative: relative.to_string_lossy().into_owned(),
            end: 0,
            opened: std::time::Instant::now(),
        })
    }
}

impl PackWriter {
    /// Appends `bodies` (the same bytes twice are kept once) to the open pack, or to a new
    /// one when it is full or old, and syncs them. Batches append side by side: each
    /// takes its range under the lock and writes and syncs outside it.
    pub fn append(&self, data_dir: &Path, bodies: &[(&str, &[u8])]) -> std::io::Result<Pack> {
        use std::os::unix::fs::FileExt;
        // Where each body goes relative to the batch's start, and the bodies to write
        // (each distinct one once), written where they go rather than copied into one
        // buffer first: a batch is a megabyte or more, fresh memory each time.
        let mut len: u64 = 0;
        let mut relative_offsets = Vec::with_capacity(bodies.len());
        let mut unique: Vec<(u64, &[u8])> = Vec::with_capacity(bodies.len());
        let mut seen: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
        for (sha256, body) in bodies {
            let at = *seen.entry(sha256).or_insert_with(|| {
                let at = len;
                unique.push((at, body));
                len += body.len() as u64;
                at
            });
            relative_offsets.push(at);
        }
        let (file, relative, start) = {
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            // A full or old pack is closed before its successor is created.
            let pack = match open.take() {
                Some(pack)
                    if !(pack.end > 0 && pack.end + len > PACK_MAX_BYTES)
                        && pack.opened.elapsed() <= PACK_MAX_AGE =>
                {
                    open.insert(pack)
                }
                _ => open.insert(OpenPack::create(data_dir)?),
            };
            let start = pack.end;
            pack.end += len;
            (pack.file.clone(), pack.relative.clone(), start)
        };
        let written = unique
            .iter()
            .try_for_each(|(at, body)| file.write_all_at(body, start + at))
            .and_then(|()| file.sync_data());
        if let Err(err) = written {
            // The next batch starts a new pack rather than trust this one's state.
            let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
            if open.as_ref().is_some_and(|pack| pack.relative == relative) {
                *open = None;
            }
            return Err(err);
        }
        Ok(Pack {
            path: relative,
            offsets: relative_offsets.into_iter().map(|at| start + at).collect(),
        })
    }
}

/// The bytes of a capture: its own file, or `size` bytes at `pack_offset` in a pack.
/// `path` is relative to the data dir and must stay inside it.
pub fn read(
    data_dir: &Path,
    path: &str,
    pack_offset: Option<i64>,
    size: i64,
) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let relative = Path::new(path);
    if !relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("capture path {path} is outside the data directory"),
        ));
    }
    let full = data_dir.join(relative);
    let Some(offset) = pack_offset else {
        return std::fs::read(full);
    };
    let (Ok(offset), Ok(size)) = (u64::try_from(offset), usize::try_from(size)) else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("capture in {path}: bad offset {offset} or size {size}"),
        ));
    };
    let mut file = std::fs::File::open(full)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = vec![0; size];
    file.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// [`save`] on a blocking thread (it writes and syncs a file): keeps the async workers
/// free while the disk works.
pub async fn save_async(data_dir: &Path, sha256: &str, body: &[u8]) -> std::io::Result<String> {
    let (dir, sha, body) = (data_dir.to_path_buf(), sha256.to_string(), body.to_vec());
    tokio::task::spawn_blocking(move || save(&dir, &sha, &body))
        .await
        .map_err(std::io::Error::other)?
}

impl crate::Env {
    /// The bytes of a raw capture, from its own file or its pack (on a blocking thread).
    /// Callers that present them as evidence check them against the recorded SHA-256.
    pub async fn read_capture(
        &self,
        capture: &diembao_store::RawCapture,
    ) -> std::io::Result<Vec<u8>> {
        let dir = self.data_dir.clone();
        let (path, offset, size) = (capture.path.clone(), capture.pack_offset, capture.size);
        tokio::task::spawn_blocking(move || read(&dir, &path, offset, size))
            .await
            .map_err(std::io::Error::other)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory of its own under the system temp dir, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!("diembao-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("scratch dir");
            Self(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_pack_gives_back_each_body_byte_for_byte_and_keeps_repeated_bytes_once() {
        let scratch = Scratch::new("pack");
        let page = "<p>một</p>".as_bytes();
        let bodies: Vec<(String, Vec<u8>)> = [page, b"", b"\xff\x00binary", page]
            .iter()
            .map(|b| (sha256_hex(b), b.to_vec()))
            .collect();
        let borrowed: Vec<(&str, &[u8])> = bodies
            .iter()
            .map(|(sha, body)| (sha.as_str(), body.as_slice()))
            .collect();
        let writer = PackWriter::default();
        let pack = writer.append(&scratch.0, &borrowed).expect("pack");
        assert!(pack.path.starts_with("captures/packs/"), "{}", pack.path);
        assert_eq!(pack.offsets.len(), 4);
        assert_eq!(
            pack.offsets[0], pack.offsets[3],
            "the same bytes are kept once"
        );
        let on_disk = std::fs::metadata(scratch.0.join(&pack.path)).expect("pack file");
        let unique: usize = bodies[..3].iter().map(|(_, b)| b.len()).sum();
        assert_eq!(on_disk.len(), unique as u64);
        for ((sha, body), offset) in bodies.iter().zip(&pack.offsets) {
            let size = i64::try_from(body.len()).expect("size");
            let offset = i64::try_from(*offset).expect("offset");
            let read = read(&scratch.0, &pack.path, Some(offset), size).expect("read");
            assert_eq!(&read, body);
            assert_eq!(&sha256_hex(&read), sha);
        }
        // The next batch goes after it in the same file; another writer (another
        // process, or after a restart) has a pack of its own.
        let second: Vec<u8> = b"<p>hai</p>".to_vec();
        let second_sha = sha256_hex(&second);
        let again = writer
            .append(&scratch.0, &[(second_sha.as_str(), &second[..])])
            .expect("pack");
        assert_eq!(again.path, pack.path);
        assert_eq!(again.offsets, [unique as u64]);
        let size = i64::try_from(second.len()).expect("size");
        let read_again = read(&scratch.0, &again.path, Some(unique as i64), size).expect("read");
        assert_eq!(read_again, second);
        let other = PackWriter::default()
            .append(&scratch.0, &borrowed[..1])
            .expect("pack");
        assert_ne!(other.path, pack.path);
        let names: Vec<String> = std::fs::read_dir(scratch.0.join("captures/packs"))
            .expect("dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.iter().all(|n| n.ends_with(".pack")), "{names:?}");
    }

    #[test]
    fn a_capture_of_its_own_is_read_whole_and_paths_stay_in_the_data_dir() {
        let scratch = Scratch::new("own");
        let body = b"<html>tin</html>";
        let sha = sha256_hex(body);
        let path = save(&scratch.0, &sha, body).expect("save");
        assert_eq!(read(&scratch.0, &path, None, 0).expect("read"), body);
        for outside in ["../etc/passwd", "/etc/passwd", "captures/../../x"] {
            let err = read(&scratch.0, outside, None, 0).expect_err(outside);
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{outside}");
        }
        // A pack shorter than the recorded size is an error, not short evidence.
        let pack = PackWriter::default()
            .append(&scratch.0, &[(sha.as_str(), &body[..])])
            .expect("pack");
        assert!(read(&scratch.0, &pack.path, Some(0), 1_000).is_err());
        assert!(read(&scratch.0, &pack.path, Some(-1), 1).is_err());
    }
}
