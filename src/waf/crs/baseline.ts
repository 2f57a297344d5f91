/**
 * Palisade's built-in rules, used when the CRS files are not installed. Written here (not taken from
 * CRS): a small, high-confidence set — the SQLi/XSS detectors, path traversal, well-known sensitive
 * files, shell command injection, method and content-type policy — scored the way CRS scores, with
 * the same blocking rule id (949110) so verdicts read the same. Paranoia levels above 1 add nothing here.
 */
export const BASELINE_RULES = String.raw`
SecAction "id:901001,phase:1,pass,nolog,t:none,setvar:tx.critical_anomaly_score=5,setvar:tx.error_anomaly_score=4,setvar:tx.warning_anomaly_score=3,setvar:tx.notice_anomaly_score=2,setvar:tx.anomaly_score=0"

SecRule REQUEST_METHOD "!@within %{tx.allowed_methods}" \
  "id:911100,phase:1,block,t:none,msg:'Method is not allowed by policy',logdata:'%{MATCHED_VAR}',tag:'palisade-baseline',severity:'CRITICAL',setvar:'tx.anomaly_score=+%{tx.critical_anomaly_score}'"

SecRule REQUEST_HEADERS:Content-Type "@rx ^([^;\s]+)" \
  "id:920420,phase:1,block,capture,t:none,t:lowercase,msg:'Request content type is not allowed by policy',logdata:'%{MATCHED_VAR}',tag:'palisade-baseline',severity:'CRITICAL',chain"
  SecRule TX:1 "!@within %{tx.allowed_request_content_type}" "t:none,setvar:'tx.anomaly_score=+%{tx.critical_anomaly_score}'"

SecRule REQUEST_COOKIES|REQUEST_COOKIES_NAMES|ARGS_NAMES|ARGS|XML:/* "@detectSQLi" \
  "id:942100,phase:2,block,capture,t:none,t:utf8toUnicode,t:urlDecodeUni,t:removeNulls,msg:'SQL Injection Attack Detected',logdata:'Matched Data: %{TX.0} found within %{MATCHED_VAR_NAME}',tag:'palisade-baseline',tag:'attack-sqli',severity:'CRITICAL',setvar:'tx.anomaly_score=+%{tx.critical_anomaly_score}'"

SecRule REQUEST_COOKIES|REQUEST_COOKIES_NAMES|REQUEST_HEADERS:User-Agent|REQUEST_HEADERS:Referer|ARGS_NAMES|ARGS|REQUEST_FILENAME|XML:/* "@detectXSS" \
  "id:941100,phase:2,block,t:none,t:utf8toUnicode,t:urlDecodeUni,t:htmlEntityDecode,t:jsDecode,t:cssDecode,t:removeNulls,msg:'XSS Attack Detected',logdata:'Matched Data: XSS data found within %{MATCHED_VAR_NAME}',tag:'palisade-baseline',tag:'attack-xss',severity:'CRITICAL',setvar:'tx.anomaly_score=+%{tx.critical_anomaly_score}'"

SecRule REQUEST_URI_RAW|ARGS|REQUEST_HEADERS|!REQUEST_HEADERS:Referer|FILES|XML:/* "@rx (?:^|[\\/])\.\.(?:[\\/]|$)" \
  "id:930100,phase:2,block,t:none,t:utf8toUnicode,t:urlDecodeUni,t:urlDecodeUni,msg:'Path Traversal Attack (/../)',logdata:'Matched Data: %{MATCHED_VAR} found within %{MATCHED_VAR_NAME}',tag:'palisade-baseline',tag:'attack-lfi',severity:'CRITICAL',setvar:'tx.anomaly_score=+%{tx.critical_anomaly_score}'"

SecRule REQUEST_FILENAME|ARGS|REQUEST_COOKIES|XML:/* "@pm /etc/passwd /etc/shadow /proc/self/environ /.ssh/id_rsa /.aws/credentials boot.ini win.ini /.env /.git/config" \
  "id:930120,phase:2,block,t:none,t:utf8toUnicode,t:urlDecodeUni,t:normalisePathWin,t:lowercase,msg:'OS File Access Attempt',logdata:'Matched Data: %{MATCHED_VAR} found within %{MATCHED_VAR_NAME}',tag:'palisade-baseline',tag:'attack-lfi',severity:'CRITICAL',setvar:'tx.anomaly_score=+%{tx.critical_anomaly_score}'"

SecRule ARGS_NAMES|ARGS|REQUEST_COOKIES|XML:/* "@rx (?:[;|&\x60\n]|\$\(|\|\|)\s*(?:sudo\s+)?(?:cat|ls|id|whoami|uname|wget|curl|nc|ncat|bash|sh|zsh|python[0-9.]*|perl|php|ruby|ping|rm|chmod|powershell|cmd(?:\.exe)?)(?:\s|$|[;|&<>])" \
  "id:932100,phase:2,block,t:none,t:utf8toUnicode,t:urlDecodeUni,t:cmdLine,msg:'Remote Command Execution: Unix/Windows Command Injection',logdata:'Matched Data: %{MATCHED_VAR} found within %{MATCHED_VAR_NAME}',tag:'palisade-baseline',tag:'attack-rce',severity:'CRITICAL',setvar:'tx.anomaly_score=+%{tx.critical_anomaly_score}'"

SecRule TX:ANOMALY_SCORE "@ge %{tx.inbound_anomaly_score_threshold}" \
  "id:949110,phase:2,deny,t:none,log,msg:'Inbound Anomaly Score Exceeded (Total Score: %{TX.ANOMALY_SCORE})',tag:'palisade-baseline',severity:'CRITICAL'"
`
