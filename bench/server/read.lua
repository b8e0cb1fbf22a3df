-- GET /fhir/Patient/<id>, ids drawn at random from patient_ids.txt.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids
setup = c.setup
function init()
  c.seed()
  ids = c.lines("patient_ids.txt")
  c.use_headers()
end
function request()
  return wrk.format("GET", "/fhir/Patient/" .. ids[math.random(#ids)])
end
function done(summary, latency)
  c.report("read Patient/<id>", summary, latency)
end
