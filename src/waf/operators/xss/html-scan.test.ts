import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { scanHtml } from './html-scan.js'
import type { HtmlContext, HtmlVisitor } from './html-scan.js'

/** Records every event as a string and never stops the scan. */
function events(input: string, context: HtmlContext = 'data'): string[] {
  const out: string[] = []
  const v: HtmlVisitor = {
    tag: (name) => (out.push(`<${name}>`), null),
    endTag: (name) => (out.push(`</${name}>`), null),
    attribute: (name, value) => (out.push(value === null ? `@${name}` : `@${name}=${value}`), null),
    markup: (kind, text) => (out.push(`${kind}:${text}`), null),
  }
  assert.equal(scanHtml(input, context, v), null)
  return out
}

describe('scanHtml', () => {
  test('reads tags, end tags and attributes in every quoting style', () => {
    assert.deepEqual(events(`<a href="x" title='y' data=\`z\` id=w hidden>t</a>`), [
      '<a>',
      '@href=x',
      '@title=y',
      '@data=z',
      '@id=w',
      '@hidden',
      '</a>',
    ])
  })

  test('ends tag and attribute names at whitespace, / and > as HTML5 does', () => {
    assert.deepEqual(events('<svg/onload=alert(1)>'), ['<svg>', '@onload=alert(1)'])
    assert.deepEqual(events('<img src=x/onerror=y>'), ['<img>', '@src=x/onerror=y'])
    assert.deepEqual(events('<a =x>'), ['<a>', '@=x'])
  })

  test('treats < before a non-letter as text', () => {
    assert.deepEqual(events('1 < 2 <3 <> a<b'), ['<b>'])
  })

  test('reads comments, declarations and processing instructions to their end', () => {
    assert.deepEqual(events('<!-- <script> --><!DOCTYPE html><?xml x?><b>'), [
      'comment: <script> ',
      'declaration:DOCTYPE html',
      'instruction:xml x?',
      '<b>',
    ])
  })

  test('starts inside an attribute value in the value contexts', () => {
    assert.deepEqual(events('x" onclick="y', '"'), ['@=x', '@onclick=y'])
    assert.deepEqual(events("x' a=b", "'"), ['@=x', '@a=b'])
    assert.deepEqual(events('x onclick=y', 'unquoted'), ['@=x', '@onclick=y'])
    assert.deepEqual(events('x"><b>', '"'), ['@=x', '<b>'])
  })

  test('stops at the first reason the visitor gives', () => {
    const v: HtmlVisitor = {
      tag: (name) => (name === 'script' ? 'stop' : null),
      endTag: () => null,
      attribute: () => null,
      markup: () => null,
    }
    assert.equal(scanHtml('<b><script><i>', 'data', v), 'stop')
  })
})
