-- Patient?birthdate=le1950-01-01&_count=50 walked through its `next` links: each connection
-- starts at the first page, follows `next` until there is none, then starts again.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local first = "/fhir/Patient?birthdate=le1950-01-01&_count=50"
local next_path
pages, walks, entries = 0, 0, 0
setup = c.setup
function init()
  c.seed()
  c.use_headers()
end
function request()
  return wrk.format("GET", next_path or first)
end
function response(status, headers, body)
  next_path = nil
  if status ~= 200 then return end
  pages = pages + 1
  local _, n = body:gsub('"fullUrl"', "")
  if n == 0 then _, n = body:gsub('"resource"%s*:', "") end
  entries = entries + n
  local url = body:match('"relation"%s*:%s*"next"%s*,%s*"url"%s*:%s*"([^"]+)"')
  if url then
    next_path = url:match("^https?://[^/]+(/.*)$") or url
  else
    walks = walks + 1
  end
end
function done(summary, latency)
  local walked = c.sum("walks")
  local pages_done = c.sum("pages")
  c.report("birthdate walk (pages)", summary, latency,
    string.format("%d complete walks, %.1f entries/page", walked,
      pages_done > 0 and c.sum("entries") / pages_done or 0))
end
