/**
 * Palisade's own rule set, loaded after CRS 3.3.4 (ids 9 500 000–9 509 999). It covers attack
 * classes that today's traffic carries and CRS 3.3.4 does not look for: JNDI lookups (Log4Shell),
 * NoSQL operators, server-side template injection, SSRF to internal addresses, XInclude and external
 * entities, Spring4Shell class-loader paths, prototype pollution, serialized objects, LDAP filter and
 * mail-command injection. Every rule describes a class (the syntax an attack needs), not known strings.
 *
 * Scoring is CRS's: each match adds the critical score to `tx.anomaly_score_plN` (for the logs) and to
 * `tx.anomaly_score`; since these rules run after CRS's blocking evaluation (949110), rule 9509110
 * evaluates the inbound threshold once more at the end of phase 2. Paranoia levels gate rules as in CRS.
 * Regression tests (CRS YAML format): `src/waf/crs/testdata/palisade/*.yaml`, run by
 * `palisade waf test-crs` and `test/waf-palisade-rules.test.ts`. WAF.md explains each rule.
 */

/** Every action list ends with the same scoring. */
const SCORE = (pl: number): string =>
  `severity:'CRITICAL',setvar:'tx.anomaly_score_pl${pl}=+%{tx.critical_anomaly_score}',setvar:'tx.anomaly_score=+%{tx.critical_anomaly_score}'`

const META = `tag:'palisade',ver:'PALISADE/1'`
const LOGDATA = `logdata:'Matched Data: %{TX.0} found within %{MATCHED_VAR_NAME}'`

/** Where a parameter's value can be: query, body, cookies, XML text, decoded Base64 views. */
const VALUES = 'ARGS|REQUEST_COOKIES|XML:/*'
const NAMES = 'ARGS_NAMES|REQUEST_COOKIES_NAMES'

const IP4_LOOPBACK = String.raw`127(?:\.\d{1,3}){0,3}`
/** Loopback, unspecified, link-local and metadata hosts, in the spellings URL parsers accept. */
const INTERNAL_HOST = [
  String.raw`localhost(?:\.localdomain)?`,
  String.raw`ip6-(?:localhost|loopback)`,
  IP4_LOOPBACK,
  String.raw`0+(?:\.0+){0,3}`, // 0, 0.0.0.0: "this host"
  String.raw`0x[0-9a-f]{1,8}(?:\.(?:0x)?[0-9a-f]+){0,3}`, // hexadecimal
  String.raw`0[0-7]+(?:\.[0-9x]+){0,3}`, // octal
  String.raw`\d{8,10}`, // one 32-bit decimal number
  String.raw`169\.254\.\d{1,3}\.\d{1,3}`, // link-local, cloud metadata
  String.raw`100\.100\.100\.200`, // Alibaba Cloud metadata
  String.raw`192\.0\.0\.192`, // Oracle Cloud metadata
  String.raw`metadata(?:\.google\.internal)?`,
  String.raw`metadata\.azure\.com`,
  String.raw`instance-data(?:\.ec2\.internal)?`,
  String.raw`\[[0:]*:0*1?\]`, // [::1], [::], [0:0:0:0:0:0:0:1]
  String.raw`\[[0:]*:ffff:[^\]]*\]`, // IPv4-mapped IPv6
  String.raw`\[fe[89ab][0-9a-f]:[^\]]*\]`, // IPv6 link-local
  String.raw`\[fd00:ec2::254\]`, // AWS metadata over IPv6
  // Names that resolve to any address written inside them (DNS rebinding helpers) or to loopback.
  String.raw`[\w.-]*\.(?:nip\.io|xip\.io|sslip\.io|localtest\.me|lvh\.me|vcap\.me|lacolhost\.com|1u\.ms|localhost)`,
].join('|')
const PRIVATE_HOST = [
  String.raw`10\.\d{1,3}\.\d{1,3}\.\d{1,3}`,
  String.raw`192\.168\.\d{1,3}\.\d{1,3}`,
  String.raw`172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}`,
  String.raw`100\.(?:6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d{1,3}\.\d{1,3}`, // carrier-grade NAT
  String.raw`\[f[cd][0-9a-f]{2}:[^\]]*\]`, // IPv6 unique local
  String.raw`[\w.-]+\.(?:internal|local|lan|intranet|corp|home\.arpa)`,
].join('|')
/**
 * An XML tag whose attribute makes a parser fetch a schema from a URL: `xsi:schemaLocation`,
 * `xsi:noNamespaceSchemaLocation`, or a schema composition element (`xs:include`, `xs:import`, …) with a
 * `schemaLocation` or `namespace` URL. Lower-case (the rules read it case-folded).
 */
const SCHEMA_FETCH = [
  String.raw`<[^>]*\b(?:[\w-]+:)?(?:nonamespace)?schemalocation\s*=\s*['\x22][^'\x22]*\b(?:https?|ftp|file|jar|gopher|php|expect|netdoc)://`,
  String.raw`<(?:[\w-]+:)?(?:include|import|redefine|override)\b[^>]*\b(?:schemalocation|namespace)\s*=\s*['\x22]\s*(?:https?|ftp|file|jar|gopher|php|expect|netdoc)://`,
].join('|')

/** `scheme://[user@]…` or a scheme-relative `//`, at the start of a value or after a separator. */
const URL_PREFIX = String.raw`(?:^|[\s'\x22(,;=<>\x60|])(?:[a-z][a-z0-9+.-]{1,15}:)?//(?:[^/?#@\s]*@)*`
/** The end of a host; `@` too: URL parsers disagree on which `@` ends the userinfo (`http://a@127.0.0.1@evil.example/`). */
const HOST_END = String.raw`(?:[:/?#@\x5c\s'\x22]|$)`

/**
 * Palisade's default exclusions, loaded before CRS (ids 9 500 001–9 500 010 and 9 500 020). Each removes one
 * request value from a few CRS rules whose patterns read ordinary text as an attack, and only that
 * value (ctl:ruleRemoveTargetById=ID;%{MATCHED_VAR_NAME}, a Palisade extension): another value of
 * the same name, or the same value's Base64 view, is still inspected. WAF.md lists them.
 */
export const PALISADE_EXCLUSIONS = String.raw`
# ---- Palisade default exclusions (before CRS) ---------------------------------------------------
# Prose ("echo in the mirror", "union was a great select", "JavaScript: The Good Parts", "Northwind
# Traders") is not a command, a SQL statement or a script URL: the CRS rules that match single words
# at the start of a value (932150 Unix command, 942190 UNION/SELECT words, 942140 database names,
# 941210 "javascript:") do not read values that are nothing but words and sentence punctuation.
# @detectSQLi (942100), @detectXSS (941100) and the other 93x/94x rules still read them.
SecRule ARGS "@isText prose" \
  "id:9500001,phase:2,pass,nolog,t:none,t:urlDecodeUni,ctl:'ruleRemoveTargetById=932150;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=942190;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=942140;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=941210;%{MATCHED_VAR_NAME}',tag:'palisade',tag:'palisade-exclusion',ver:'PALISADE/1'"

# 933210 (PHP variable function call: $f(...), "sys"."tem"(...), ("system")(...)) reads markdown links
# and code spans as calls: "[docs](https://example.com/a);". A value with no $, quote, backslash or
# brace cannot name a PHP function to call, so 933210 does not read it.
SecRule ARGS "@isText noPhpCall" \
  "id:9500003,phase:2,pass,nolog,t:none,t:urlDecodeUni,ctl:'ruleRemoveTargetById=933210;%{MATCHED_VAR_NAME}',tag:'palisade',tag:'palisade-exclusion',ver:'PALISADE/1'"

# 941310 looks for the bytes 0xBC and 0xBE (US-ASCII ¼ ¾, which old IE read as < >). In UTF-8 text
# they are continuation bytes of ordinary characters (most CJK text has them): a value that is valid
# UTF-8 with no < or > is not read by 941310.
SecRule ARGS|REQUEST_COOKIES "@isText utf8" \
  "id:9500002,phase:2,pass,nolog,t:none,t:urlDecodeUni,ctl:'ruleRemoveTargetById=941310;%{MATCHED_VAR_NAME}',tag:'palisade',tag:'palisade-exclusion',ver:'PALISADE/1'"

# 930120 reads the file names of lfi-os-files.data, among them a project's own files (package.json,
# yarn.lock, tsconfig.json, config.yml ...). Repository webhooks and CI APIs list changed files by their
# path inside the repository: a JSON value that is only a relative path (no leading / or ~, no ..
# segment, no backslash, colon, % or NUL) ending in such a file name is not read by 930120. The same
# name in a query, a form or the path, an absolute path, a traversal, and every other value still are.
SecRule ARGS:/^json\./ "@rx ^(?:\.?[\w@+-][\w.@+-]*/)*(?:package(?:-lock)?\.json|tsconfig(?:\.[\w-]+)?\.json|yarn\.lock|webpack\.config\.js|gruntfile\.js|ormconfig\.json|npm-debug\.log|(?:config|config_\w+|parameters|routing|security|services)\.yml)$" \
  "id:9500004,phase:2,pass,nolog,t:none,ctl:'ruleRemoveTargetById=930120;%{MATCHED_VAR_NAME}',tag:'palisade',tag:'palisade-exclusion',ver:'PALISADE/1'"

# Markdown is text for people: issue bodies, comments, commit messages and chat messages quote
# commands and code ("run ${'`'}git log | head${'`'} to see", fenced ${'```'}bash blocks, tables drawn with |).
# The CRS rules that find a Unix or Windows command word after a separator or at the start of a line
# (932100/932105/932110/932115/932130/932140/932150/932160) do not read a value that is Markdown: it
# has a fenced code block line, a table delimiter row, or a code span inside a sentence (a word before
# it, then a space; punctuation or a space and another word after it). Nor does 942190 (SELECT * ... in
# a code span). Every other rule still reads it (942100 @detectSQLi among them), and so does 9500350
# (backticks glued to = or a separator, the shell's command substitution).
SecRule ARGS "@rx (?m:^[ \t]{0,3}(?:${'```'}|~~~)[\w+#.-]*\r?$|^\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+[ \t]*\r?$|[A-Za-z]{2,}[^${'`'}\n]*[ \t(]${'`'}[^${'`'}\n]+${'`'}[ \t.,:;!?)]+(?:[A-Za-z]{2,}|$))" \
  "id:9500005,phase:2,pass,nolog,t:none,ctl:'ruleRemoveTargetById=932100;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932105;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932110;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932115;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932130;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932140;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932150;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932160;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=942190;%{MATCHED_VAR_NAME}',tag:'palisade',tag:'palisade-exclusion',ver:'PALISADE/1'"

# An image sent inline as a data: URI (avatars, screenshots in JSON APIs) matches 941130 (the word
# base64) and 941170 (data: URIs, which can carry HTML). A value that is wholly a data: URI of a
# raster image in Base64 carries no markup; SVG (which can hold script) and text/html are still read.
SecRule ARGS "@rx ^data:image/(?:png|jpe?g|gif|webp|avif|bmp|x-icon|vnd\.microsoft\.icon);base64,[A-Za-z0-9+/]+=*$" \
  "id:9500006,phase:2,pass,nolog,t:none,ctl:'ruleRemoveTargetById=941130;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=941170;%{MATCHED_VAR_NAME}',tag:'palisade',tag:'palisade-exclusion',ver:'PALISADE/1'"

# SAML messages (SAMLResponse, SAMLRequest) are Base64 of an XML document whose root element is
# prefixed and declares its namespaces: 941130 reads "xmlns" as an XSS attribute vector (for <svg
# xmlns=...>). The decoded view of a value that is an XML document with a prefixed root element
# declaring a urn: namespace is not read by 941130; the other XSS rules (941100 @detectXSS, 941110
# script tags, 941160 handlers ...) still read all of it.
SecRule ARGS "@rx ^\s*(?:<\?xml[^>]*\?>\s*)?<[A-Za-z][\w.-]*:[A-Za-z][\w.-]*\s+xmlns:[A-Za-z][\w.-]*\s*=\s*\x22urn:" \
  "id:9500007,phase:2,pass,nolog,t:none,ctl:'ruleRemoveTargetById=941130;%{MATCHED_VAR_NAME}',tag:'palisade',tag:'palisade-exclusion',ver:'PALISADE/1'"

# A semicolon is sentence punctuation too ("I think it would do; copy should reach us", "tonight;
# nc and ssh will be down"), and 932100/932105/932110/932115 read the word after it as a command. A
# value that is a sentence of at least six words (letters, digits, sentence punctuation; no shell
# syntax | & $ ${'`'} < > { } [ ] = / \ * % # ~ ^ +, no word starting with -) with "; " inside it is not
# read by them. Commands need a path, an option, a redirection or a pipe far more often than not; the
# other rules (9500330/9500340, 932120 ...) still read the value.
SecRule ARGS "@rx ^(?:[A-Za-z0-9\x80-\xff'\x22(][A-Za-z0-9\x80-\xff'\x22,.!?:()-]* +){2,}[A-Za-z0-9\x80-\xff'\x22(][A-Za-z0-9\x80-\xff'\x22,.!?:()-]*; +(?:[A-Za-z0-9\x80-\xff'\x22(][A-Za-z0-9\x80-\xff'\x22,.!?:()-]*;? +){1,}[A-Za-z0-9\x80-\xff'\x22(][A-Za-z0-9\x80-\xff'\x22,.!?:()-]*[.!?\x22')]*$" \
  "id:9500008,phase:2,pass,nolog,t:none,t:urlDecodeUni,ctl:'ruleRemoveTargetById=932100;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932105;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932110;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932115;%{MATCHED_VAR_NAME}',tag:'palisade',tag:'palisade-exclusion',ver:'PALISADE/1'"

# 942100 reads a value after t:utf8toUnicode,t:urlDecodeUni, which turns every non-ASCII character
# into its low byte: Arabic alef (U+0627) becomes a single quote, lam (U+0644) a D, so ordinary Arabic
# (and some Cyrillic, Greek, Hebrew) text reads as SQL. The application sees the characters, not those
# bytes. A value with a non-ASCII character whose ASCII part has no SQL syntax (' " ${'`'} ; = \ # * -),
# no % (a second URL decoding would make one) and no full-width form of one (U+FF02 ＂, ＃, ＇, ＊, －, ／, ；, ＝, ＼, ｀: databases with "best
# fit" mappings read those as ASCII) is not read by 942100; the other 942 rules still read it.
SecRule ARGS|REQUEST_COOKIES "@rx ^(?:[^'\x22\x60;=\x5c#*%\-\xef]|\xef(?:[^\xbc\xbd]|\xbc[^\x82\x83\x87\x8a\x8d\x8f\x9b\x9d\xbc]|\xbd[^\x80]))*[\x80-\xee\xf0-\xff](?:[^'\x22\x60;=\x5c#*%\-\xef]|\xef(?:[^\xbc\xbd]|\xbc[^\x82\x83\x87\x8a\x8d\x8f\x9b\x9d\xbc]|\xbd[^\x80]))*$" \
  "id:9500009,phase:2,pass,nolog,t:none,ctl:'ruleRemoveTargetById=942100;%{MATCHED_VAR_NAME}',tag:'palisade',tag:'palisade-exclusion',ver:'PALISADE/1'"

# 920440 refuses restricted file extensions (.com, .bat, .exe ...). REST APIs address resources by
# e-mail address (/users/ana%40example.com), whose "extension" is the top-level domain. A request
# whose last path segment is an e-mail address is not read by 920440 (it reads only the extension);
# the path is still read by every other rule.
SecRule REQUEST_BASENAME "@rx ^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}$" \
  "id:9500010,phase:1,pass,nolog,t:none,ctl:ruleRemoveById=920440,tag:'palisade',tag:'palisade-exclusion',ver:'PALISADE/1'"

# JSON text inside a value (Slack's payload=, GraphQL's variables= in a GET, Base64 views of JSON
# documents) opens with {" and 932100/932110/932115 read { as a command separator, so a first key
# that is also a command name ({"debug": …}, {"find": …}) reads as a command. Neither a Unix shell
# ({ needs a space and a ; to group) nor cmd.exe runs a word after {". A value that opens as a JSON
# object or array of objects and holds no command separator (; | & ${'`'} $ or a line break) is not read
# by those three rules; a separator anywhere in it and every other rule still apply.
SecRule ARGS "@rx ^\s*\[?\s*\{\s*\x22[^;|&\x60$\r\n]*$" \
  "id:9500020,phase:2,pass,nolog,t:none,t:urlDecodeUni,ctl:'ruleRemoveTargetById=932100;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932110;%{MATCHED_VAR_NAME}',ctl:'ruleRemoveTargetById=932115;%{MATCHED_VAR_NAME}',tag:'palisade',tag:'palisade-exclusion',ver:'PALISADE/1'"
`

export const PALISADE_RULES = String.raw`
# ---- Palisade rule set (after CRS) -------------------------------------------------------------
SecRule TX:PARANOIA_LEVEL "@lt 1" "id:9500011,phase:2,pass,nolog,skipAfter:END-PALISADE-PL1"

# JNDI lookups (Log4Shell, CVE-2021-44228) and the lookup syntax that hides them (in the path too: a
# segment with $ or { is in ARGS as REQUEST_FILENAME): nested lookups
# ($\{$\{lower:j}ndi:...}), defaults ($\{::-j}), any lookup prefix log4j 2 evaluates.
SecRule REQUEST_HEADERS|REQUEST_COOKIES|REQUEST_COOKIES_NAMES|ARGS|ARGS_NAMES|XML:/* "@rx (?i:\$\{(?:[^{}]{0,64}?\$\{|[^{}]{0,64}?:-|\s*(?:jndi|lower|upper|env|sys|sd|java|base64|main|ctx|date|docker|k8s|spring|bundle|marker|map|web|log4j|event|jvmrunargs)\s*:))" \
  "id:9500100,phase:2,block,capture,t:none,t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:cssDecode,t:removeNulls,msg:'JNDI / Log4j lookup injection (Log4Shell)',${LOGDATA},tag:'attack-rce',tag:'attack-log4shell',${META},${SCORE(1)}"

# NoSQL (MongoDB) query operators as parameter or JSON key names: user[$ne]=, {"user":{"$gt":""}}.
SecRule ${NAMES} "@rx (?i:(?:^|[.\[])\$(?:ne|eq|gt|gte|lt|lte|in|nin|regex|where|exists|or|and|nor|not|expr|elemmatch|size|type|mod|all|text|function|accumulator|lookup|jsonschema|options|comment|natural)(?:$|[.\]]))" \
  "id:9500200,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'NoSQL injection: query operator in a parameter name',${LOGDATA},tag:'attack-injection-nosql',${META},${SCORE(1)}"

# NoSQL operators, MongoDB shell calls and busy-wait loops (the $where timing probe) inside values:
# {"$where": ...}, ', $or: [...], db.users.find(...), do{...}while(...).
SecRule ${VALUES} "@rx (?i:(?:^|[\s,{(\['\x22])\$(?:where|ne|eq|gt|gte|lt|lte|in|nin|regex|exists|or|and|nor|not|expr|elemmatch|function|accumulator)\s*['\x22]?\s*:|\$where\b|\bdb\.[\w$]+\.(?:find|findone|insert|insertone|insertmany|update|updateone|updatemany|replaceone|remove|deleteone|deletemany|drop|aggregate|mapreduce|count|distinct)\s*\(|\bdb\.(?:getcollection|eval|dropdatabase|getsiblingdb|admincommand|runcommand)\s*\(|\bdo\s*\{[^}]*\}\s*while\s*\()" \
  "id:9500210,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'NoSQL injection: operator or shell call in a value',${LOGDATA},tag:'attack-injection-nosql',${META},${SCORE(1)}"

# Server-side template injection: arithmetic inside any template language's delimiters
# ({{7*7}}, $\{7*7}, #{7*7}, <%= 7*7 %>, {%...%}, [[...]]; operands may be quoted: {{7*'7'}}), a probe
# every SSTI scanner sends.
SecRule ${VALUES}|${NAMES}|REQUEST_HEADERS:User-Agent|REQUEST_HEADERS:Referer "@rx (?:\{\{|\$\{|#\{|\*\{|@\{|<%=?|\{%=?|\[\[|\{#)\s*['\x22]?[\d.]+['\x22]?\s*(?:[*+/%-]|\*\*)\s*['\x22]?[\d.]+['\x22]?\s*(?:\}\}|\}|%>|%\}|\]\]|#\})" \
  "id:9500300,phase:2,block,capture,t:none,t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:cssDecode,t:removeNulls,msg:'Server-side template injection: expression probe',${LOGDATA},tag:'attack-ssti',${META},${SCORE(1)}"

# Template sandbox escapes: Python object-graph walks (Jinja2, Mako, Tornado), FreeMarker and
# Velocity directives, Twig, Spring EL, Smarty, OGNL.
SecRule ${VALUES}|${NAMES}|REQUEST_HEADERS:User-Agent|REQUEST_HEADERS:Referer "@rx (?i:__(?:class|mro|subclasses|globals|builtins|import|init|base|bases|getattribute)__|<#(?:assign|import|include|if|list|macro|function|attempt|setting|global)\b|\$\{[^}]{0,100}(?:\?new\s*\(|\?api\b|freemarker\.template)|freemarker\.template\.utility|\bt\s*\(\s*java\.lang\.|(?:\{\{|\{%)[^}]{0,200}?(?:\b(?:config|self|request|lipsum|cycler|joiner|namespace|url_for|get_flashed_messages)\b\s*[.\[]|_self\.env|registerundefinedfiltercallback|\|\s*attr\s*\(|\bfilter\s*\(\s*['\x22]system)|#set\s*\(\s*\$[\w.]+\s*=|\$class\.inspect|\{(?:php|system|exec|passthru|shell_exec)\b[^}]*\}|@java\.lang\.runtime@|#_memberaccess|#context\[)" \
  "id:9500310,phase:2,block,capture,t:none,t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:cssDecode,t:removeNulls,msg:'Server-side template injection: sandbox escape',${LOGDATA},tag:'attack-ssti',${META},${SCORE(1)}"

# JavaScript dialog and eval sinks called the ways filters forget: through call/apply/bind,
# optional chaining, a parenthesised or bracketed name, a template literal.
SecRule ${VALUES}|${NAMES}|REQUEST_HEADERS:User-Agent|REQUEST_HEADERS:Referer "@rx (?i:\b(?:alert|confirm|prompt|eval|settimeout|setinterval|execscript)(?:\?\.)?(?:\(|\x60)|\b(?:alert|confirm|prompt|eval|settimeout|setinterval|execscript|fetch|function)\s*\.\s*(?:call|apply|bind)\s*\(|\(\s*(?:alert|confirm|prompt|eval)\s*\)\s*(?:\(|\x60)|\b(?:top|window|self|parent|globalthis|frames|this)\s*\[\s*['\x22\x60](?:alert|confirm|prompt|eval)\b)" \
  "id:9500320,phase:2,block,capture,t:none,t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:cssDecode,t:removeNulls,msg:'XSS: JavaScript dialog or eval sink called',${LOGDATA},tag:'attack-xss',${META},${SCORE(1)}"

# UNC paths to another host's administrative share or to this host (\\::1\c$\..., \\127.0.0.1\admin$):
# NTLM credential leaks and file reads through SMB.
SecRule ${VALUES} "@rx (?i:(?:^|[\s'\x22=(])\x5c\x5c[\w.:\[\]%-]+\x5c(?:[a-z]\$|admin\$|ipc\$|print\$|sysvol|netlogon)(?:\x5c|$))" \
  "id:9500950,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'UNC path to an administrative share',${LOGDATA},tag:'attack-lfi',${META},${SCORE(1)}"

# SSRF: a URL in any parameter whose host is loopback, unspecified, link-local, a cloud metadata
# endpoint, an IPv4-mapped IPv6 address, a decimal/octal/hexadecimal IPv4 spelling or a name that
# resolves to one of them (rebinding helpers).
SecRule ${VALUES}|REQUEST_HEADERS:Referer|REQUEST_HEADERS:X-Forwarded-Host "@rx (?i:${URL_PREFIX}(?:${INTERNAL_HOST})${HOST_END})" \
  "id:9500400,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'SSRF: URL to a loopback, link-local or metadata address',${LOGDATA},tag:'attack-ssrf',${META},${SCORE(1)}"

# External entities and XInclude anywhere a parameter or body carries XML (the XML body processor
# already refuses any DOCTYPE).
SecRule ${VALUES}|${NAMES} "@rx (?i:<!entity\s+(?:%\s*)?[\w.:-]+\s+(?:system|public)\b|<!doctype\s+[\w.:-]+\s*(?:system|public|\[)|<(?:[\w-]+:)?include\b[^>]*\b(?:href|parse)\s*=|/2001/xinclude\b)" \
  "id:9500500,phase:2,block,capture,t:none,t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:cssDecode,t:removeNulls,msg:'XML external entity or XInclude',${LOGDATA},tag:'attack-xxe',${META},${SCORE(1)}"
SecRule REQBODY_PROCESSOR "@streq XML" \
  "id:9500510,phase:2,block,capture,t:none,msg:'XInclude in an XML body',${LOGDATA},tag:'attack-xxe',${META},chain"
  SecRule FULL_REQUEST "@rx <(?:[\w-]+:)?include\b[^>]*\b(?:href|parse)\s*=|/2001/xinclude\b" "t:none,t:lowercase,${SCORE(1)}"

# Spring4Shell (CVE-2022-22965) and other bean-binding paths to the class loader.
SecRule ${NAMES}|${VALUES} "@rx (?i:(?:^|[.\[\s'\x22])class\s*[.\[]\s*['\x22]?(?:module|classloader|protectiondomain)\b|\bclassloader\s*[.\[]\s*['\x22]?(?:resources|parent|urls|defaultassertionstatus)\b|\.getclassloader\s*\()" \
  "id:9500600,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'Class-loader manipulation (Spring4Shell)',${LOGDATA},tag:'attack-rce',tag:'attack-java',${META},${SCORE(1)}"

# Prototype pollution: __proto__ or constructor.prototype as a key path (a.constructor.prototype,
# a[constructor][prototype], {"constructor": {"prototype": …}}), in names or values.
SecRule ${NAMES}|${VALUES} "@rx (?i:(?:^|[.\[\s'\x22{,])__proto__(?:$|[.\[\]'\x22\s:=])|(?:^|[.\[\s'\x22{,])constructor['\x22]?\]?\s*[.\[:]\s*\{?\s*['\x22]?prototype\b)" \
  "id:9500700,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'Prototype pollution',${LOGDATA},tag:'attack-prototype-pollution',${META},${SCORE(1)}"

# Serialized objects: Java (raw, hex and Base64 stream headers), PHP, .NET (BinaryFormatter,
# Json.NET $type, ObjectDataProvider), Python pickle, YAML language tags, JSON text naming a Java
# class under @type/@class (fastjson).
SecRule ${VALUES}|REQUEST_BODY|REQUEST_HEADERS "@rx (?:^|[^\w+/])rO0AB[A-Za-z0-9+/]|\xac\xed\x00\x05|(?:^|[^\w])aced0005[0-9a-fA-F]{4}|(?:^|[;{\s'\x22])[OC]:\d+:\x22[\w\x5c]+\x22:\d+:\{|^a:\d+:\{(?:[isbdN]:|\})|AAEAAAD/////|ObjectDataProvider|System\.Diagnostics\.Process|\$type['\x22]?\s*:\s*['\x22][\w.]+\.[\w.]+,\s*[\w.]+|c(?:os|posix|nt|subprocess|builtins|__builtin__)\n(?:system|popen|exec|eval|check_output|call|getoutput)\b|^gASV|!!python/(?:object|name|module)|!!(?:javax?|com|org)\.|!ruby/(?:object|hash|marshal)|['\x22]@(?:type|class)['\x22]\s*:\s*['\x22]L?\[*[a-zA-Z_$][\w$]*(?:\.[\w$]+){2,}['\x22;]" \
  "id:9500800,phase:2,block,capture,t:none,msg:'Serialized object in a parameter (deserialization attack)',${LOGDATA},tag:'attack-deserialization',${META},${SCORE(1)}"

# fastjson / Jackson polymorphic typing: a class name under @type / @class.
SecRule ARGS:/(?:^|\.)(?:@type|@class)$/ "@rx ^\s*L?\[*[a-zA-Z_$][\w$]*(?:\.[\w$]+){2,};?\s*$" \
  "id:9500810,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'Polymorphic deserialization: class name in @type',${LOGDATA},tag:'attack-deserialization',tag:'attack-java',${META},${SCORE(1)}"

# LDAP filter injection: nested filter operators, a closed filter followed by a new one, wildcard
# filters, extensible-match rules with an OID.
SecRule ${VALUES} "@rx (?i:\(\s*[&|!]\s*\(|\)\s*\(\s*[&|!]?\s*[\w-]+\s*[~<>]?=|\*\s*\)\s*\(|\(\s*[\w-]+\s*[~<>]?=\s*\*\s*\)|[\w-]+(?::dn)?:\d+(?:\.\d+)+:=)" \
  "id:9500900,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'LDAP filter injection',${LOGDATA},tag:'attack-injection-ldap',${META},${SCORE(1)}"

# Mail command and header injection: a line break followed by an SMTP or IMAP command or a
# recipient header.
SecRule ${VALUES} "@rx (?i:[\r\n]\s*(?:(?:rcpt\s+to|mail\s+from)\s*:|(?:quit|data|rset|noop|starttls|ehlo|helo)\s*(?:[\r\n]|$)|[a-z]\d{1,5}\s+(?:capability|fetch|login|select|examine|list|lsub|uid|store|copy|append|logout|authenticate|search|starttls)\b|(?:bcc|cc)\s*:))" \
  "id:9500910,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'Mail command or header injection',${LOGDATA},tag:'attack-injection-mail',${META},${SCORE(1)}"

# GraphQL introspection (__schema, __type): a map of every type, field and mutation, the first step of
# an attack on an API; production APIs answer it to no one. In a document that parses, the meta-field is
# an argument named by its path (src/waf/body/graphql.ts); in one that does not, or in a body without a
# content type, it is text. An API that
# publishes its schema on purpose excludes this rule for its environment.
SecRule ARGS_NAMES|ARGS|REQUEST_BODY "@rx (?:^|[^\w$])__(?:schema|type)\b(?:\s*[{(]|$)" \
  "id:9500250,phase:2,block,capture,t:none,t:urlDecodeUni,t:jsDecode,msg:'GraphQL introspection query',${LOGDATA},tag:'attack-reputation-scanner',tag:'attack-graphql',${META},${SCORE(1)}"

# Shell commands that list the system's accounts and hosts (getent passwd, getent hosts, ypcat) after a
# command separator: CRS's command lists (932100/932105) do not name them.
SecRule ${VALUES}|${NAMES} "@rx (?i:(?:^|[;&|\x60\n(]|\$\()\s*(?:sudo\s+)?(?:getent\s+(?:passwd|shadow|group|gshadow|hosts|ahosts(?:v[46])?|services|networks|protocols|netgroup|initgroups|aliases|ethers|rpc)\b|yp(?:cat|match)\s|lslogins\b|dscacheutil\s+-q\s|dscl\s+\S+\s+-(?:list|read)\b))" \
  "id:9500330,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'Remote command execution: account or host database lookup',${LOGDATA},tag:'attack-rce',tag:'platform-unix',${META},${SCORE(1)}"

# Windows cmd expressions after a command separator: arithmetic and prompts (set /a 3482*7301, set /p),
# a nested cmd (cmd /c, cmd.exe /k), expansions of environment variables with substrings
# (%COMSPEC:~0,1%): the probes scanners use to see whether cmd evaluated their input.
SecRule ${VALUES}|${NAMES} "@rx (?i:(?:^|[;&|\n(])\s*@?\s*(?:set\s+/[ap]\s|cmd(?:\.exe)?\s+/[ckr]\s|call\s+:[a-z_])|%[a-z_][\w()]*:~-?\d+(?:,-?\d+)?%)" \
  "id:9500340,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'Remote command execution: Windows cmd expression',${LOGDATA},tag:'attack-rce',tag:'platform-windows',${META},${SCORE(1)}"

# Backtick command substitution glued to an option or an assignment (--exec=\`id\`, x=\`uname -a\`,
# ;\`id\`): a shell runs what is between the backticks. A code span in prose follows a space or a
# bracket, not an = or a command separator.
SecRule ${VALUES} "@rx [=;&|]\s*\x60\s*[a-z_][\w./-]*(?:\s+[^\x60\r\n]{0,100})?\x60" \
  "id:9500350,phase:2,block,capture,t:none,t:urlDecodeUni,t:lowercase,msg:'Remote command execution: backtick command substitution',${LOGDATA},tag:'attack-rce',tag:'platform-unix',${META},${SCORE(1)}"

# Wildcard paths: the shell expands /???/b??/w?oami to /usr/bin/whoami, so no command name is written
# out. Two path segments in a row that hold a ? wildcard (URLs put ? once, before the query).
SecRule ${VALUES} "@rx /[\w.-]*\?[\w?.-]*/[\w.-]*\?[\w?.*-]*" \
  "id:9500360,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'Remote command execution: wildcard-obfuscated path',${LOGDATA},tag:'attack-rce',tag:'platform-unix',${META},${SCORE(1)}"

# Command chaining to a command a probe runs (127.0.0.1 | id, x;uname -a, a && cat /etc/passwd, $(whoami),
# %0Aid): CRS 3.3's 932100/932105 need longer command names or a path, so the shortest probes pass at
# paranoia 1. After a pipe, && or $( any argument counts, but not a Markdown table cell (| id | bigint |);
# after ; or & the command must end the value or take an option, a path, a variable or a quote; after a
# line break (scripts quoted in notes and issues have many) only a path or a variable.
SecRule ${VALUES} "@rx (?:\|\|?|&&|\$\()\s*(?:id|whoami|uname|hostname|pwd|ifconfig|ipconfig|netstat|ps|ls|cat|nc|ncat|netcat|curl|wget|ping|nslookup|dig|sleep|bash|sh|zsh|ksh|python[23]?|perl|php|ruby|powershell|pwsh|cmd|echo|rm|busybox|telnet|tftp|systeminfo|net)(?:\s*(?:$|[;&)\x60])|\s+[^\s|])|[;&]\s*(?:id|whoami|uname|hostname|pwd|ifconfig|ipconfig|netstat|ps|ls|cat|nc|ncat|netcat|curl|wget|ping|nslookup|dig|sleep|bash|sh|zsh|ksh|python[23]?|perl|php|ruby|powershell|pwsh|cmd|echo|rm|busybox|telnet|tftp|systeminfo|net)(?:\s*(?:$|[;|&)\x60])|\s+[-/$~'\x22])|\n\s*(?:id|whoami|uname|hostname|pwd|ifconfig|ipconfig|netstat|ps|ls|cat|nc|ncat|netcat|curl|wget|ping|nslookup|dig|sleep|bash|sh|zsh|ksh|python[23]?|perl|php|ruby|powershell|pwsh|cmd|echo|rm|busybox|telnet|tftp|systeminfo|net)(?:\s*(?:$|[;|&)\x60])|\s+[/$~])" \
  "id:9500370,phase:2,block,capture,t:none,t:urlDecodeUni,t:lowercase,msg:'Remote command execution: command chained after a separator',${LOGDATA},tag:'attack-rce',tag:'platform-multi',${META},${SCORE(1)}"

# XSS split over parameters: a payload whose HTML entities were left unencoded in a query string or a
# form body (&gt; src onerror=confirm&lpar;1&rpar;) is cut at every "&" into parameters named
# "gt; src onerror", "amp;lpar;1" ..., so that no single value holds the attack. When a parameter name is
# such an entity remainder, the whole query string and body, decoded, are read for markup and event
# handlers. (A link copied from HTML with "&amp;" between its parameters has such names too; its decoded
# query has neither, so it passes.)
SecRule ARGS_NAMES "@rx ^(?:[a-zA-Z]{2,8}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});" \
  "id:9500380,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'XSS split over parameters by unencoded HTML entities',${LOGDATA},tag:'attack-xss',${META},chain"
  SecRule QUERY_STRING|REQUEST_BODY "@rx (?i)(?:[\s\x22'\x60;/=,(]on[a-z]{3,25}\s*=\s*[^\s=&]|<\s*/?\s*(?:script|iframe|svg|img|object|embed|body|style|a|input|details|video|audio|math)\b|javascript\s*:|&(?:lpar|rpar|colon|lt|gt);)" "t:none,t:urlDecodeUni,t:htmlEntityDecode,${SCORE(1)}"

# Classic ASP / VBScript code injection (web shells posted to an Execute or Eval sink): statements only
# VBScript has, two of them in one value or in the whole query string or body (a payload cut at "&", the
# language's own string concatenation, lands in several parameters). CRS 3.3 has rules for PHP, Java and
# Node.js code, none for VBScript.
SecRule ${VALUES}|QUERY_STRING|REQUEST_BODY "@rx (?i)(?:\bon\s+error\s+resume\s+next\b|\bserver\s*\.\s*(?:scripttimeout|createobject|mappath|execute|transfer)\b|\bwscript\s*\.\s*shell\b|\bcreateobject\s*\(\s*[\x22'](?:wscript|scripting|adodb|msxml2|shell)\b)" \
  "id:9500390,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'Classic ASP / VBScript code injection',${LOGDATA},tag:'attack-rce',tag:'language-vbscript',${META},chain"
  SecRule MATCHED_VAR "@rx (?i)(?:\b(?:execute(?:global)?|eval)\s*\(|\bresponse\s*\.\s*(?:write|binarywrite)\s*\(|\bfunction\s+\w+\s*\(\s*byval\b|\bdim\s+\w+\s*[:\r\n]|\bend\s+(?:if|function|sub)\b|\bon\s+error\s+resume\s+next\b.{0,500}\bserver\s*\.|\bserver\s*\..{0,500}\bon\s+error\s+resume\s+next\b)" "t:none,t:urlDecodeUni,${SCORE(1)}"

# CRLF look-alikes: U+560A and U+560D (UTF-8 E5 98 8A / E5 98 8D) end in the bytes 0A and 0D; a server
# or library that truncates characters to one byte (Node.js before 8.x, some Java header APIs) writes a
# line break, then the attacker's header. Either character followed by a header name and a colon.
SecRule REQUEST_URI|REQUEST_FILENAME|${VALUES}|REQUEST_HEADERS "@rx \xe5\x98[\x8a\x8d](?:\xe5\x98[\x8a\x8d])?\s*[A-Za-z][\w-]{1,40}\s*:" \
  "id:9500920,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'HTTP response splitting: CRLF look-alike character before a header',${LOGDATA},tag:'attack-protocol',${META},${SCORE(1)}"

# Out-of-band interaction probes: blind injection (SSRF, Log4Shell, XXE, command injection) is found by
# making the server look up or fetch a unique name under a public interaction service (Burp
# Collaborator, interactsh, dnslog ...). A host name with a probe label (8+ characters) under one of
# those services, in a header (the user agent too), a parameter, a cookie or XML. A link to the service's
# own site has no probe label.
SecRule REQUEST_HEADERS|${VALUES}|REQUEST_FILENAME "@rx (?i)[a-z0-9-]{8,}\.(?:burpcollaborator\.net|oastify\.com|interact\.sh|interactsh\.com|oast\.(?:pro|live|site|online|fun|me)|dnslog\.(?:cn|link)|ceye\.io|requestrepo\.com|canarytokens\.com|bxss\.me)\b" \
  "id:9500930,phase:2,block,capture,t:none,t:urlDecodeUni,t:lowercase,msg:'Out-of-band interaction probe (blind injection)',${LOGDATA},tag:'attack-generic',${META},${SCORE(1)}"

# XML that makes its parser fetch a schema (SSRF, XXE through the schema): xsi:schemaLocation and
# xsi:noNamespaceSchemaLocation with a URL, xs:include / xs:import / xs:redefine / xs:override pointing
# at a URL. In parameters that carry XML (the tag is required) and in XML bodies.
SecRule ${VALUES} "@rx (?i:${SCHEMA_FETCH})" \
  "id:9500520,phase:2,block,capture,t:none,t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,t:removeNulls,msg:'XML schema fetched from a URL',${LOGDATA},tag:'attack-xxe',tag:'attack-ssrf',${META},${SCORE(1)}"
SecRule REQBODY_PROCESSOR "@streq XML" \
  "id:9500521,phase:2,block,capture,t:none,msg:'XML schema fetched from a URL in an XML body',${LOGDATA},tag:'attack-xxe',tag:'attack-ssrf',${META},chain"
  SecRule FULL_REQUEST "@rx ${SCHEMA_FETCH}" "t:none,t:lowercase,${SCORE(1)}"

SecMarker "END-PALISADE-PL1"
SecRule TX:PARANOIA_LEVEL "@lt 2" "id:9500013,phase:2,pass,nolog,skipAfter:END-PALISADE-PL2"

# SSRF to private networks: at paranoia 1 an application may legitimately take a URL to a service
# on its own network (webhooks to an internal host, admin tools); from paranoia 2 it counts.
# Server-side JavaScript statements after a string ($where and mapReduce bodies): ;var d=new Date();
# Code snippets in ordinary text (a forum post, a CMS field) look the same, so
# this counts from paranoia 2.
SecRule ${VALUES} "@rx (?i:(?:^|[;'\x22])\s*(?:var|let|const)\s+[\w$]+\s*=[^;]*;)" \
  "id:9501210,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'Server-side JavaScript injection',${LOGDATA},tag:'attack-injection-nosql',${META},${SCORE(2)}"

SecRule ${VALUES} "@rx (?i:${URL_PREFIX}(?:${PRIVATE_HOST})${HOST_END})" \
  "id:9501400,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'SSRF: URL to a private-network address',${LOGDATA},tag:'attack-ssrf',${META},${SCORE(2)}"

SecMarker "END-PALISADE-PL2"

# CRS's own blocking evaluation (949110) ran before these rules: evaluate the inbound threshold again.
SecRule TX:ANOMALY_SCORE "@ge %{tx.inbound_anomaly_score_threshold}" \
  "id:9509110,phase:2,deny,t:none,log,msg:'Inbound Anomaly Score Exceeded after the Palisade rules (Total Score: %{TX.ANOMALY_SCORE})',tag:'palisade',ver:'PALISADE/1',severity:'CRITICAL',setvar:'tx.inbound_anomaly_score=%{tx.anomaly_score}'"
`
