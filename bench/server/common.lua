-- Shared by the wrk scripts in bench/server (loaded with dofile; see run.sh). Environment:
--   BENCH_DATA   directory with the request inputs run.sh wrote (patient_ids.txt, …)
--   BENCH_TOKEN  bearer token (the peer ignores it)
--   BENCH_LABEL  which server, for the RESULT line
-- run.sh starts wrk with as many threads as connections, so each thread drives exactly one
-- connection and the stateful scripts (walk, write mix) know which request a response answers.
local M = {}

M.label = os.getenv("BENCH_LABEL") or "?"
M.threads = {}

-- Adds the token and Accept to wrk.headers (which holds Host: keep it, HTTP/1.1 needs it).
function M.use_headers()
  wrk.headers["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")
  wrk.headers["Accept"] = "application/fhir+json"
end

-- wrk.headers and `extra`, for one request.
function M.headers_with(extra)
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  for name, value in pairs(extra) do headers[name] = value end
  return headers
end

function M.lines(name)
  local lines = {}
  for line in io.lines(os.getenv("BENCH_DATA") .. "/" .. name) do
    if #line > 0 then lines[#lines + 1] = line end
  end
  assert(#lines > 0, name .. " is empty")
  return lines
end

-- setup() runs in the main Lua state once per thread; done() reads the threads' counters.
function M.setup(thread)
  M.threads[#M.threads + 1] = thread
  thread:set("thread_number", #M.threads)
end

function M.seed()
  math.randomseed(os.time() * 1000 + (thread_number or 0))
end

function M.sum(name)
  local total = 0
  for _, thread in ipairs(M.threads) do total = total + (thread:get(name) or 0) end
  return total
end

-- One tab-separated line run.sh turns into the table:
-- RESULT label operation requests/s p50_ms p99_ms requests non2xx socket_errors extra
function M.report(operation, summary, latency, extra)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT\t%s\t%s\t%.1f\t%.2f\t%.2f\t%d\t%d\t%d\t%s\n", M.label, operation,
    summary.requests / seconds, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, extra or ""))
end

return M
