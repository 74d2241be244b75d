-- wrk script: GET /api/search with a rotating query mix (accented, unaccented, phrase,
-- Boolean, filtered), signed in with the cookie in the DIEMBAO_COOKIE environment variable.
local queries = {
  "q=chuy%E1%BB%83n%20%C4%91%E1%BB%95i%20s%E1%BB%91",                 -- chuyển đổi số
  "q=chuyen%20doi%20so",                                               -- unaccented
  "q=%22an%20to%C3%A0n%20th%C3%B4ng%20tin%22",                         -- "an toàn thông tin"
  "q=b%C3%A3o%20OR%20l%C5%A9",                                         -- bão OR lũ
  "q=du%20l%E1%BB%8Bch%20-bi%E1%BB%83n",                               -- du lịch -biển
  "q=n%C3%B4ng%20nghi%E1%BB%87p&since=2023-03-01&until=2023-06-30",    -- with dates
  "q=lua%20dao%20chuyen%20khoan",                                      -- unaccented, three words
  "q=title:Ninh%20Thu%E1%BA%ADn&sort=date",                            -- title, by date
}
local cookie = os.getenv("DIEMBAO_COOKIE") or ""
local n = 0
request = function()
  n = n + 1
  local q = queries[(n % #queries) + 1]
  return wrk.format("GET", "/api/search?" .. q .. "&limit=10", { ["Cookie"] = cookie })
end
done = function(summary, latency, requests)
  io.write(string.format("requests/s %.1f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("p50 %.1f ms  p99 %.1f ms  max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
  io.write(string.format("errors: connect %d read %d write %d status %d timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
