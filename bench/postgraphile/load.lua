-- wrk script of bench/vs_postgraphile.py: POST one GraphQL request body on every connection,
-- count answers that are not a GraphQL success, and write the latency histogram for the bench
-- to merge across blocks.
--   BENCH_BODY   file holding the request body (JSON)
--   BENCH_TOKEN  bearer token
--   BENCH_OUT    file the summary and histogram are written to

local function read(path)
  local file = assert(io.open(path, "rb"))
  local text = file:read("*a")
  file:close()
  return text
end

wrk.method = "POST"
wrk.body = read(os.getenv("BENCH_BODY"))
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")

-- Each wrk thread runs its own copy of this script: its counters are globals that done() reads
-- through the thread objects setup() collected.
bad = 0
first_bad = ""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status ~= 200 or body:sub(1, 8) ~= '{"data":' or body:find('"errors"', 1, true) then
    if bad == 0 then first_bad = status .. " " .. body:sub(1, 200) end
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("BENCH_OUT"), "w"))
  local e, wrong, example = summary.errors, 0, ""
  for _, thread in ipairs(threads) do
    wrong = wrong + thread:get("bad")
    if example == "" then example = thread:get("first_bad") end
  end
  out:write(string.format(
    "requests %d\nduration_us %d\nsocket_errors %d\nnon2xx %d\nbad_answers %d\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, wrong
  ))
  if example ~= "" then out:write("first_bad " .. example:gsub("\n", " ") .. "\n") end
  for i = 1, #latency do
    local value, count = latency(i)
    out:write(string.format("latency_us %d %d\n", value, count))
  end
  out:close()
end
