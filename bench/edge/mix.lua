-- A benign traffic mix for bench/edge (wrk -s): page views with query strings and cookies, form posts and
-- JSON API calls, as a shop's visitors send them. Every request must pass the CRS at paranoia 1 (the run
-- warns on any non-2xx), so the WAF rows measure inspection, not blocking.
local requests = {}

local function headers(extra)
  local h = {
    ["Host"] = "bench.localhost",
    ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    ["Accept"] = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
    ["Accept-Language"] = "en-GB,en;q=0.7",
    ["Cookie"] = "session=8f2c1d0e9a7b6c5d4e3f2a1b; theme=dark; consent=analytics",
  }
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

local function add(method, path, extra, body)
  table.insert(requests, wrk.format(method, path, headers(extra), body))
end

local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local json = { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }

add("GET", "/")
add("GET", "/products?category=shoes&page=2&sort=price-asc")
add("GET", "/search?q=blue+running+shoes&size=42&in_stock=1")
add("GET", "/static/app.3f9a1c.js")
add("GET", "/api/orders/1234?include=items,shipping", { ["Accept"] = "application/json" })
add("POST", "/login", form, "email=alice%40example.com&password=correct-horse-battery-staple&remember=1")
add("POST", "/account/address", form, "name=Alice+Smith&street=12+High+Street&city=London&postcode=SW1A+1AA&country=GB")
add("POST", "/api/orders", json,
  '{"items":[{"sku":"SHOE-42-BLUE","qty":1},{"sku":"SOCK-M","qty":3}],"coupon":"WINTER10","note":"Leave it with the neighbour at number 14, please."}')
add("PUT", "/api/profile", json,
  '{"displayName":"Alice","newsletter":true,"preferences":{"currency":"GBP","language":"en-GB","sizes":[41,42]}}')
add("POST", "/api/reviews", json,
  '{"product":"SHOE-42-BLUE","rating":5,"title":"Great fit","text":"Comfortable from day one; I ran 10 km in them on Sunday."}')

local i = 0
request = function()
  i = i % #requests + 1
  return requests[i]
end
