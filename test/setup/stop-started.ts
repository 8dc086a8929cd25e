import {afterEach} from 'vitest'
import {stopStarted} from '../helpers/cli.js'

// A follower a test started (tail, consume -f, pipe -f) outlives a test that fails before it stops it:
// left running, such processes piled up on the machine after every failed run.
afterEach(() => stopStarted())
