-- GET /fhir/Condition?subject=Patient/<id>, people with at least one Condition, at random.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids
setup = c.setup
function init()
  c.seed()
  ids = c.lines("condition_subjects.txt")
  c.use_headers()
end
function request()
  return wrk.format("GET", "/fhir/Condition?subject=Patient/" .. ids[math.random(#ids)])
end
function done(summary, latency)
  c.report("Condition?subject=", summary, latency)
end
