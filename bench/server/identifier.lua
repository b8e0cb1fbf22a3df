-- GET /fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|<n>, NHS numbers at random
-- from nhs_numbers.txt ('|' sent as %7C).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local numbers
setup = c.setup
function init()
  c.seed()
  numbers = c.lines("nhs_numbers.txt")
  c.use_headers()
end
function request()
  return wrk.format("GET", "/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C" ..
    numbers[math.random(#numbers)])
end
function done(summary, latency)
  c.report("Patient?identifier=", summary, latency)
end
