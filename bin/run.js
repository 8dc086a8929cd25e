#!/usr/bin/env node
import {main} from '../dist/bundle/run.js'

await main(import.meta.url)
