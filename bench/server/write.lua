-- The write mix: reads of random Patients, and for one read in nine the same connection then
-- PUTs that Patient back with If-Match: <the ETag it got> — so 10% of requests are
-- conditional writes. The write toggles Patient.active (a real change, no effect on the other
-- searches). 412 (someone else wrote it first) is counted, not retried.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids
local last_id, want_put, pending, last_was_put
puts_ok, puts_412, puts_other = 0, 0, 0
setup = c.setup
function init()
  c.seed()
  ids = c.lines("patient_ids.txt")
  c.use_headers()
end
local function toggled(body)
  if body:find('"active":true', 1, true) then
    return (body:gsub('"active":true', '"active":false', 1))
  elseif body:find('"active":false', 1, true) then
    return (body:gsub('"active":false', '"active":true', 1))
  end
  return (body:gsub('^{', '{"active":true,', 1))
end
function request()
  if pending then
    local put = pending
    pending, last_was_put = nil, true
    local headers = c.headers_with({ ["If-Match"] = put.etag, ["Content-Type"] = "application/fhir+json" })
    return wrk.format("PUT", "/fhir/Patient/" .. put.id, headers, toggled(put.body))
  end
  last_was_put = false
  last_id = ids[math.random(#ids)]
  want_put = math.random(9) == 1
  return wrk.format("GET", "/fhir/Patient/" .. last_id)
end
function response(status, headers, body)
  if last_was_put then
    if status == 200 then
      puts_ok = puts_ok + 1
    elseif status == 412 then
      puts_412 = puts_412 + 1
    else
      puts_other = puts_other + 1
    end
  elseif want_put and status == 200 then
    local etag = headers["ETag"] or headers["etag"] or headers["Etag"]
    if etag then pending = { id = last_id, etag = etag, body = body } end
  end
end
function done(summary, latency)
  c.report("10% If-Match write mix", summary, latency,
    string.format("PUT 200: %d, 412: %d, other: %d", c.sum("puts_ok"), c.sum("puts_412"),
      c.sum("puts_other")))
end
