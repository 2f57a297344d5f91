export { createFsWafSource as createFsSource } from '../../src/edge/index.js'
