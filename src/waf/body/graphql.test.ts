import assert from 'node:assert/strict'
import { test } from 'node:test'
import { expandGraphql, graphqlArgs } from './graphql.js'

test('a GraphQL document becomes its argument values and string literals, named by path', () => {
  const doc =
    'query Find($n: Int = 5) { user(id: "7", filter: {name: "ann", tags: ["a", "b"]}) { posts(first: 3) @include(if: true) { title } } }'
  assert.deepEqual(graphqlArgs(doc, 'json.query', 100), [
    { key: 'json.query.Find.$n', value: '5' },
    { key: 'json.query.Find.user.id', value: '7' },
    { key: 'json.query.Find.user.filter.name', value: 'ann' },
    { key: 'json.query.Find.user.filter.tags.array_0', value: 'a' },
    { key: 'json.query.Find.user.filter.tags.array_1', value: 'b' },
    { key: 'json.query.Find.user.posts.first', value: '3' },
    { key: 'json.query.Find.user.posts.@include.if', value: 'true' },
  ])
})

test('text that does not parse as GraphQL, or defines types, is left to be inspected as text', () => {
  assert.equal(graphqlArgs("1' OR 1=1--", 'query', 100), undefined)
  assert.equal(graphqlArgs('shoes {size 9', 'query', 100), undefined)
  assert.equal(graphqlArgs('type A { x: Int } union B = C | D', 'query', 100), undefined)
})

test('query parameters and JSON query keys are expanded; a comment keeps the text', () => {
  const args = [
    { key: 'page', value: '2' },
    { key: 'query', value: '{ a(x: "1") }' },
  ]
  assert.deepEqual(expandGraphql(args, 100), [
    { key: 'page', value: '2' },
    { key: 'query.query.a.x', value: '1' },
  ])
  const commented = [{ key: 'json.query', value: '{ a } # <script>' }]
  assert.deepEqual(expandGraphql(commented, 100), [{ key: 'json.query', value: '{ a } # <script>' }])
  assert.equal(expandGraphql([{ key: 'q', value: '{ a }' }], 100), undefined)
})

test('introspection meta-fields stay visible as arguments; __typename does not', () => {
  assert.deepEqual(
    graphqlArgs('query IntrospectionQuery { __schema { types { name } } }', 'json.query', 100),
    [{ key: 'json.query.IntrospectionQuery.__schema', value: '__schema' }],
  )
  assert.deepEqual(graphqlArgs('{ t: __type(name: "User") { fields { name } } }', 'query', 100), [
    { key: 'query.query.__type', value: '__type' },
    { key: 'query.query.t.name', value: 'User' },
  ])
  assert.deepEqual(graphqlArgs('{ user(id: "1") { __typename name } }', 'query', 100), [
    { key: 'query.query.user.id', value: '1' },
  ])
})
