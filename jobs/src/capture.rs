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
/// (Listings are kept so; a batch of pages goes into one [`save_pack`].)
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
    /// Offset of each body given to [`save_pack`], in order.
    pub offsets: Vec<u64>,
}

/// Keeps the bodies of a crawl batch in one pack file, one after the other (the same
/// bytes twice are kept once), synced once, under a name no other writer uses:
/// `captures/packs/<millis>-<pid>-<seq>.pack`. The file gets its name only once its bytes
/// are on disk, and is never written again.
pub fn save_pack(data_dir: &Path, bodies: &[(&str, &[u8])]) -> std::io::Result<Pack> {
    use std::io::Write;
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let name = format!("{millis}-{}-{seq}", std::process::id());
    let relative: PathBuf = ["captures", "packs", &format!("{name}.pack")]
        .iter()
        .collect();
    let path = data_dir.join(&relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("pack.tmp");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    let mut offsets = Vec::with_capacity(bodies.len());
    let mut seen: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
    let mut end = 0u64;
    for (sha256, body) in bodies {
        let offset = match seen.get(sha256) {
            Some(at) => *at,
            None => {
                let at = end;
                file.write_all(body)?;
                end += body.len() as u64;
                seen.insert(sha256, at);
                at
            }
        };
        offsets.push(offset);
    }
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(Pack {
        path: relative.to_string_lossy().into_owned(),
        offsets,
    })
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
        let pack = save_pack(&scratch.0, &borrowed).expect("pack");
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
        // No temporary file is left behind, and a second pack has a name of its own.
        let again = save_pack(&scratch.0, &borrowed[..1]).expect("pack");
        assert_ne!(again.path, pack.path);
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
        let pack = save_pack(&scratch.0, &[(sha.as_str(), &body[..])]).expect("pack");
        assert!(read(&scratch.0, &pack.path, Some(0), 1_000).is_err());
        assert!(read(&scratch.0, &pack.path, Some(-1), 1).is_err());
    }
}
