import {ensureTools} from './debian-tools.js'

/** The local project's end-to-end tests run spool in tmux (spool top), script(1) ptys, zsh and fish. */
export default function setup(): void {
  ensureTools(['tmux', 'script', 'zsh', 'fish'])
}
