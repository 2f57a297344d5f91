export { createFsWafSource as createFsSource } from '../../src/cli/commands/waf.js'
