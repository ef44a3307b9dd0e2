-- wrk script for bench/rest_load.py --driver wrk: every connection is a customer who
-- waits for the reply before sending the next message (wrk's own closed loop).
-- MESSAGES_FILE holds one JSON-encoded message text per line; CUSTOMERS is C.
local messages = {}
for line in io.lines(os.getenv("MESSAGES_FILE")) do messages[#messages + 1] = line end
local customers = tonumber(os.getenv("CUSTOMERS"))
local run_id = os.getenv("RUN_ID")
local counter = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  counter = counter + 1
  local sender = run_id .. "-" .. (counter % customers)
  local body = '{"sender":"' .. sender .. '","message":' .. messages[(counter % #messages) + 1] .. '}'
  return wrk.format(nil, "/webhooks/rest/webhook", nil, body)
end

local failures = 0
response = function(status, headers, body)
  if status ~= 200 then failures = failures + 1 end
end
