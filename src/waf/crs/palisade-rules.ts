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

/** `scheme://[user@]` or a scheme-relative `//`, at the start of a value or after a separator. */
const URL_PREFIX = String.raw`(?:^|[\s'\x22(,;=<>\x60|])(?:[a-z][a-z0-9+.-]{1,15}:)?//(?:[^/?#@\s]*@)?`
const HOST_END = String.raw`(?:[:/?#\x5c\s'\x22]|$)`

/**
 * Palisade's default exclusions, loaded before CRS (ids 9 500 001–9 500 009). Each removes one
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
# ({{7*7}}, $\{7*7}, #{7*7}, <%= 7*7 %>, {%...%}, [[...]]), a probe every SSTI scanner sends.
SecRule ${VALUES}|${NAMES}|REQUEST_HEADERS:User-Agent|REQUEST_HEADERS:Referer "@rx (?:\{\{|\$\{|#\{|\*\{|@\{|<%=?|\{%=?|\[\[|\{#)\s*[\d.]+\s*(?:[*+/%-]|\*\*)\s*[\d.]+\s*(?:\}\}|\}|%>|%\}|\]\]|#\})" \
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

# Prototype pollution: __proto__ or constructor.prototype as a key path, in names or values.
SecRule ${NAMES}|${VALUES} "@rx (?i:(?:^|[.\[\s'\x22{,])__proto__(?:$|[.\[\]'\x22\s:=])|(?:^|[.\[\s'\x22])constructor\s*[.\[]\s*['\x22]?prototype\b)" \
  "id:9500700,phase:2,block,capture,t:none,t:urlDecodeUni,msg:'Prototype pollution',${LOGDATA},tag:'attack-prototype-pollution',${META},${SCORE(1)}"

# Serialized objects: Java (raw, hex and Base64 stream headers), PHP, .NET (BinaryFormatter,
# Json.NET $type, ObjectDataProvider), Python pickle, YAML language tags.
SecRule ${VALUES}|REQUEST_BODY|REQUEST_HEADERS "@rx (?:^|[^\w+/])rO0AB[A-Za-z0-9+/]|\xac\xed\x00\x05|(?:^|[^\w])aced0005[0-9a-fA-F]{4}|(?:^|[;{\s'\x22])[OC]:\d+:\x22[\w\x5c]+\x22:\d+:\{|^a:\d+:\{(?:[isbdN]:|\})|AAEAAAD/////|ObjectDataProvider|System\.Diagnostics\.Process|\$type['\x22]?\s*:\s*['\x22][\w.]+\.[\w.]+,\s*[\w.]+|c(?:os|posix|nt|subprocess|builtins|__builtin__)\n(?:system|popen|exec|eval|check_output|call|getoutput)\b|^gASV|!!python/(?:object|name|module)|!!(?:javax?|com|org)\.|!ruby/(?:object|hash|marshal)" \
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
