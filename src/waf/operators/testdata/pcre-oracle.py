#!/usr/bin/env python3
"""Generates crs-rx-pcre.json: what real PCRE2 answers for every CRS @rx pattern on a set of inputs.

The @rx operator runs CRS patterns on RE2 (or a bounded JS RegExp). This oracle runs the same patterns
with the PCRE2 library ModSecurity uses, with ModSecurity v3's flags (DOTALL | MULTILINE), through
ctypes, so crs-rx-pcre.test.ts can check that both engines agree on match / no match and captures.

Inputs are the parameter values of the OWASP CRS 3.3.4 regression tests (Apache-2.0,
../shared/crs-3.3.4), URL-decoded, plus a few crafted byte strings.

Usage: python3 pcre-oracle.py /usr/share/modsecurity-crs/rules /work/shared/crs-3.3.4/regression/tests > crs-rx-pcre.json
"""
import ctypes
import glob
import json
import os
import re
import sys
import urllib.parse

import yaml

rules_dir, tests_dir = sys.argv[1], sys.argv[2]
MAX_INPUTS = 400
MAX_INPUT_LEN = 600

pcre = ctypes.CDLL('libpcre2-8.so.0')
pcre.pcre2_compile_8.restype = ctypes.c_void_p
pcre.pcre2_compile_8.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint32,
                                 ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_size_t), ctypes.c_void_p]
pcre.pcre2_match_data_create_from_pattern_8.restype = ctypes.c_void_p
pcre.pcre2_match_data_create_from_pattern_8.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
pcre.pcre2_match_8.restype = ctypes.c_int
pcre.pcre2_match_8.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                               ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p]
pcre.pcre2_get_ovector_pointer_8.restype = ctypes.POINTER(ctypes.c_size_t)
pcre.pcre2_get_ovector_pointer_8.argtypes = [ctypes.c_void_p]
DOTALL, MULTILINE = 0x20, 0x400
UNSET = ctypes.c_size_t(-1).value


def extract_patterns():
    out = []
    for path in sorted(glob.glob(os.path.join(rules_dir, '*.conf'))):
        text = open(path, encoding='latin1').read()
        lines = [l for l in text.split('\n') if not re.match(r'^\s*#', l)]
        logical = '\n'.join(lines).replace('\\\n', ' ').split('\n')
        last_id = '?'
        for line in logical:
            m = re.match(r'^\s*SecRule\s+\S+\s+"((?:[^"\\]|\\.)*)"\s*(?:"((?:[^"\\]|\\.)*)")?', line)
            if not m:
                continue
            rid = re.search(r"\bid:'?(\d+)", m.group(2) or '')
            if rid:
                last_id = rid.group(1)
            op = re.match(r'^!?@rx (.*)$', m.group(1), re.S)
            if not op:
                continue
            pattern = op.group(1).replace('\\"', '"')
            pattern = re.sub(r'%\{tx\.allowed_request_content_type_charset\}', 'utf-8|iso-8859-1', pattern, flags=re.I)
            out.append({'id': rid.group(1) if rid else last_id, 'pattern': pattern})
    return out


def extract_inputs():
    seen, out = set(), []

    def add(b):
        if 0 < len(b) <= MAX_INPUT_LEN and b not in seen and len(out) < MAX_INPUTS:
            seen.add(b)
            out.append(b)

    for b in [b'union\x0bselect 1', b'caf\xc3\xa9 \xe9t\xe9', b'a\nb\r\nc', b"1' or '1'='1", b'<script>alert(1)</script>',
              b'/etc/passwd', b'${jndi:ldap://x}', b'\x00\xff\x80', b'a' * 500]:
        add(b)
    for path in sorted(glob.glob(os.path.join(tests_dir, '*', '*.yaml'))):
        doc = yaml.safe_load(open(path, encoding='utf-8'))
        for t in doc.get('tests') or []:
            for s in t.get('stages') or []:
                inp = (s.get('stage') or {}).get('input') or {}
                parts = []
                uri = inp.get('uri')
                if isinstance(uri, str) and '?' in uri:
                    parts.append(uri.split('?', 1)[1])
                data = inp.get('data')
                if isinstance(data, list):
                    data = '\r\n'.join(str(x) for x in data)
                if isinstance(data, str):
                    parts.append(data)
                for part in parts:
                    for kv in part.split('&'):
                        value = kv.split('=', 1)[1] if '=' in kv else kv
                        add(urllib.parse.unquote_to_bytes(value.replace('+', ' ')))
                for v in (inp.get('headers') or {}).values():
                    if isinstance(v, str):
                        add(v.encode('utf-8', 'surrogateescape'))
    return out


patterns = extract_patterns()
inputs = extract_inputs()
positives, failures = [], []
for pi, p in enumerate(patterns):
    err, off = ctypes.c_int(), ctypes.c_size_t()
    raw = p['pattern'].encode('latin1')
    code = pcre.pcre2_compile_8(raw, len(raw), DOTALL | MULTILINE, ctypes.byref(err), ctypes.byref(off), None)
    if not code:
        failures.append([pi, -1, 'compile error %d' % err.value])
        continue
    md = pcre.pcre2_match_data_create_from_pattern_8(code, None)
    for ii, subject in enumerate(inputs):
        rc = pcre.pcre2_match_8(code, subject, len(subject), 0, 0, md, None)
        if rc == -1:
            continue
        if rc < 0:
            failures.append([pi, ii, 'match error %d' % rc])
            continue
        ov = pcre.pcre2_get_ovector_pointer_8(md)
        caps = []
        for g in range(min(rc, 10)):
            start, end = ov[2 * g], ov[2 * g + 1]
            caps.append(None if start == UNSET else subject[start:end].decode('latin1'))
        positives.append([pi, ii, caps])

json.dump({
    'generator': 'src/waf/operators/testdata/pcre-oracle.py (PCRE2 via ctypes). Code generated. DO NOT EDIT.',
    'flags': 'PCRE2_DOTALL|PCRE2_MULTILINE',
    'inputsFrom': 'OWASP CRS 3.3.4 regression tests (Apache-2.0), URL-decoded parameter and header values',
    'patterns': patterns,
    'inputs': [b.decode('latin1') for b in inputs],
    'positives': positives,
    'failures': failures,
}, sys.stdout, ensure_ascii=True)
sys.stdout.write('\n')
