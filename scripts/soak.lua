-- wrk script for scripts/soak: host-shaped invocations, as the Functions
-- host sends them (POST /RustyFunction, the envelope chunked, no
-- Content-Length), each with its own invocation ID and radius; every
-- `sample`-th answer is checked in full.
--
-- Argument after `--`: the sample rate.

local radii = { "0", "0.5", "1", "2", "2.5", "3", "10", "123.456", "1e-3", "7.5e153", "-0" }
local requests = {}
local sent = 0
local sample = 97

-- Results, read by done() through thread:get().
seen = 0
checked = 0
bad = 0
first_bad = ""

-- The host streams the envelope; cut it in 256-byte chunks as a stream would.
local function chunked(body)
  local out = {}
  for i = 1, #body, 256 do
    local piece = body:sub(i, i + 255)
    out[#out + 1] = string.format("%x\r\n%s\r\n", #piece, piece)
  end
  out[#out + 1] = "0\r\n\r\n"
  return table.concat(out)
end

local function envelope(radius)
  return '{"Data":{"req":{"Url":"http://localhost:7071/api/RustFunction","Method":"POST",'
    .. '"Query":{},"Headers":{"Accept":["*/*"],"Content-Type":["application/json"],'
    .. '"Host":["localhost:7071"]},"Params":{},"Identities":[{"AuthenticationType":null,'
    .. '"IsAuthenticated":false,"Claims":[]}],"Body":"{\\"radius\\": ' .. radius .. '}"}},'
    .. '"Metadata":{"radius":"' .. radius .. '","Query":{},"Headers":{"Accept":"*/*",'
    .. '"Content-Type":"application/json"},"sys":{"MethodName":"RustyFunction",'
    .. '"UtcNow":"2026-11-27T10:00:00.0000000Z","RandGuid":"0b4e8e2c-2d5b-4e63-9d7e-5b4cdd0e3f43"}}}'
end

function init(args)
  sample = tonumber(args[1]) or sample
  for i, radius in ipairs(radii) do
    requests[i] = "POST /RustyFunction HTTP/1.1\r\n"
      .. "Host: 127.0.0.1\r\n"
      .. "Content-Type: application/json; charset=utf-8\r\n"
      .. "X-Azure-Functions-HostVersion: 4.1037.0.0\r\n"
      .. "X-Azure-Functions-InvocationId: soak-" .. i .. "\r\n"
      .. "User-Agent: Azure-Functions-Host/4.1037.0.0\r\n"
      .. "Transfer-Encoding: chunked\r\n\r\n"
      .. chunked(envelope(radius))
  end
end

function request()
  sent = sent + 1
  return requests[sent % #requests + 1]
end

-- A whole, correct answer: HTTP 200, statusCode 200 inside, the area of the
-- radius this invocation ID was sent with, to the bit.
local function wrong(status, body)
  if status ~= 200 then
    return "HTTP " .. status
  end
  local id = body:match('invocation=\\"soak%-(%d+)\\"')
  local radius = body:match('\\"radius\\":([%d%.eE+-]+),')
  local area = body:match('\\"area\\":([%d%.eE+-]+)}')
  if not (id and radius and area and body:find('"statusCode":200', 1, true)) then
    return "not a 200 envelope"
  end
  local sent_radius = tonumber(radii[tonumber(id)])
  local r, a = tonumber(radius), tonumber(area)
  if r ~= sent_radius then
    return "radius " .. radius .. " for soak-" .. id
  end
  if a ~= math.pi * r * r then
    return "area " .. area .. " for radius " .. radius
  end
  return nil
end

function response(status, headers, body)
  seen = seen + 1
  if seen % sample == 0 then
    checked = checked + 1
    local why = wrong(status, body)
    if why then
      bad = bad + 1
      if first_bad == "" then
        first_bad = why .. ": " .. body:sub(1, 300)
      end
    end
  elseif status ~= 200 then
    bad = bad + 1
  end
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local c, b, why = 0, 0, ""
  for _, thread in ipairs(threads) do
    c = c + thread:get("checked")
    b = b + thread:get("bad")
    if why == "" then
      why = thread:get("first_bad")
    end
  end
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d duration_s=%.1f connect=%d read=%d write=%d timeout=%d non2xx=%d checked=%d bad=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.timeout, e.status,
    c, b, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3))
  if why ~= "" then
    io.write("SOAK first bad answer: " .. why .. "\n")
  end
end
