-- wrk script for every load of the benchmark; bench/run.sh picks the load with environment
-- variables (each wrk thread has its own Lua state, and all of them can read these):
--   BENCH_MODE       callback | read | submit | sim-create | plain (GET BENCH_PATH, /healthz)
--   BENCH_JOBS_FILE  written by bench.py prepare: "job_id task_id token" per line
--   BENCH_TOKEN      bearer token (read, submit); any word for sim-create
--   BENCH_EXPECT     the status every answer must have (default 200)
--   BENCH_CLOSE      1: send "Connection: close", so every request opens a new TLS connection
--   BENCH_CB_URL     callback_url sent to the simulator (sim-create)
--   BENCH_DELAY      mean ms each connection waits between an answer and its next request
--                    (pacing; each wait is drawn from 0.5 to 1.5 times it)
--   BENCH_OUT        where done() writes its one-line JSON summary

local mode = os.getenv("BENCH_MODE") or "plain"
local expect = tonumber(os.getenv("BENCH_EXPECT") or "200")
local close = os.getenv("BENCH_CLOSE") == "1"

local function headers(extra)
  local h = {}
  if close then h["Connection"] = "close" end
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

local function read_jobs()
  local jobs = {}
  local f = assert(io.open(assert(os.getenv("BENCH_JOBS_FILE"), "BENCH_JOBS_FILE not set"), "r"))
  for line in f:lines() do
    local id, task, token = line:match("^(%S+)%s+(%S+)%s+(%S+)$")
    if id then jobs[#jobs + 1] = {id = id, task = task, token = token} end
  end
  f:close()
  assert(#jobs > 0, "no jobs in BENCH_JOBS_FILE")
  return jobs
end

-- A non-terminal evolink task object (PROVIDERS.md), about 1 KB: the provider's task id,
-- "processing" with a progress, and a prompt-like text the parser ignores as padding.
local function callback_body(task)
  local body = string.format(
    '{"id":"%s","object":"video.generation.task","created":%d,"model":"seedance-1.5-pro",' ..
    '"status":"processing","progress":50,"type":"video",' ..
    '"task_info":{"can_cancel":false,"estimated_time":95,"video_duration":5},' ..
    '"usage":{"billing_rule":"per_call","credits_reserved":8,"user_group":"default"},' ..
    '"prompt":"', task, os.time())
  local words = "A slow dolly shot across a rain-soaked neon street at night, reflections " ..
                "shimmering in puddles, a cyclist passing through soft bokeh, cinematic. "
  while #body + #words + 2 < 1024 do body = body .. words end
  body = body .. string.rep(".", 1024 - #body - 2) .. '"}'
  return body
end

local function build_requests()
  local reqs = {}
  if mode == "callback" then
    for _, j in ipairs(read_jobs()) do
      reqs[#reqs + 1] = wrk.format("POST",
        "/v1/callbacks/evolink/" .. j.id .. "?token=" .. j.token,
        headers({["Content-Type"] = "application/json"}), callback_body(j.task))
    end
  elseif mode == "read" then
    local auth = "Bearer " .. os.getenv("BENCH_TOKEN")
    for _, j in ipairs(read_jobs()) do
      reqs[#reqs + 1] = wrk.format("GET", "/v1/jobs/" .. j.id, headers({["Authorization"] = auth}))
    end
  elseif mode == "submit" then
    reqs[1] = wrk.format("POST", "/v1/jobs",
      headers({["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
               ["Content-Type"] = "application/json"}),
      '{"model":"seedance-1.5-pro","prompt":"bench submission [sim:no-callback]","duration":5}')
  elseif mode == "sim-create" then
    -- What seedhook's evolink adapter sends the provider, straight to the simulator.
    reqs[1] = wrk.format("POST", "/v1/videos/generations",
      headers({["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
               ["Content-Type"] = "application/json"}),
      '{"model":"seedance-1.5-pro","prompt":"bench submission [sim:no-callback]","duration":5,' ..
      '"callback_url":"' .. os.getenv("BENCH_CB_URL") .. '"}')
  else
    reqs[1] = wrk.format("GET", os.getenv("BENCH_PATH") or "/healthz", headers())
  end
  return reqs
end

-- main state: keep the threads to collect their counters in done()
local threads = {}
function setup(thread)
  thread:set("index", #threads)
  threads[#threads + 1] = thread
end

-- thread state
local requests_list, next_request
function init(args)
  requests_list = build_requests()
  -- threads start at different places so they do not chase each other through the jobs
  next_request = (index or 0) * math.floor(#requests_list / 2) % #requests_list
  math.randomseed(os.time() * 16 + (index or 0))
  unexpected = 0      -- globals, read by done() through thread:get
  first_status = 0
end

-- Each pause is drawn uniformly from 0.5 to 1.5 times BENCH_DELAY: with a fixed pause, the
-- connections, opened together, stay in step and every server sees bursts of BENCH_CONNECTIONS
-- requests at once, so a latency figure would measure the queueing of a burst, not a request.
local pause = tonumber(os.getenv("BENCH_DELAY") or "0")
if pause > 0 then
  function delay() return math.random(math.ceil(pause / 2), math.floor(pause * 3 / 2)) end
end

function request()
  next_request = next_request % #requests_list + 1
  return requests_list[next_request]
end

function response(status, headers, body)
  if status ~= expect then
    unexpected = unexpected + 1
    if first_status == 0 then first_status = status end
  end
end

function done(summary, latency, requests)
  local bad, first = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("unexpected") or 0)
    local s = t:get("first_status") or 0
    if first == 0 then first = s end
  end
  local e = summary.errors
  local line = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"timeout_errors":%d,"status_errors":%d,"unexpected_status":%d,' ..
    '"first_unexpected_status":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f}',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout,
    e.status, bad, first, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean)
  local out = os.getenv("BENCH_OUT")
  if out then
    local f = assert(io.open(out, "w"))
    f:write(line, "\n")
    f:close()
  end
  io.write(line, "\n")
end
