import {setTimeout as sleep} from 'node:timers/promises'

import {TargetError} from '../errors/index.js'
import type {EmitEvent} from '../events/forward-event.js'
import {phaseProblem} from './project-phase.js'

/** First pause between polls; it doubles up to `MAX_POLL_MS`. */
const FIRST_POLL_MS = 250
const MAX_POLL_MS = 2000

/** The phases after which a project may still become Running by itself. */
const WAITABLE = new Set(['Pending', 'Scheduled'])

/** A project resource as far as waiting needs it. */
export interface ProjectView {
  phase?: string
  nodeRef?: string
}

export interface WaitOptions {
  project: string
  /** 0 does not wait: a project that is not Running fails at once. */
  timeoutMs: number
  emit: EmitEvent
  /** Called once, when the project turns out to be waiting and the wait begins. */
  onWaiting?: () => void
}

/**
 * Polls the project, with backoff, until it is Running on a node, and returns the last
 * resource read. Each phase change is reported once; Failed, Terminating and the like end the
 * wait at once, and so does the timeout.
 */
export async function waitForRunning<T>(
  fetch: () => Promise<T>, view: (resource: T) => ProjectView, options: WaitOptions,
): Promise<T> {
  const {emit, project, timeoutMs} = options
  const deadline = Date.now() + timeoutMs
  let pauseMs = FIRST_POLL_MS
  let shown: string | undefined

  for (;;) {
    const resource = await fetch()
    const {nodeRef, phase} = view(resource)
    const state = phase === 'Running' && !nodeRef ? 'Running without a node yet' : phase
    if (phase === 'Running' && nodeRef) {
      if (shown) {
        emit({message: `project "${project}" is Running on node "${nodeRef}"`, type: 'info'})
      }
      return resource
    }

    if (phase !== 'Running' && !WAITABLE.has(phase ?? '')) throw phaseProblem(project, phase)!

    const remainingMs = deadline - Date.now()
    if (timeoutMs === 0) throw notReady(project, phase)
    if (remainingMs <= 0) throw timedOut(project, state!, timeoutMs)

    if (shown === undefined) options.onWaiting?.()
    if (state !== shown) {
      emit({
        message: shown === undefined ?
          `project "${project}" is ${state}; waiting up to ${seconds(timeoutMs)} for it to run` :
          `project "${project}" is now ${state}`,
        type: 'info',
      })
      shown = state
    }

    await sleep(Math.min(pauseMs, remainingMs))
    pauseMs = Math.min(pauseMs * 2, MAX_POLL_MS)
  }
}

function notReady(project: string, phase: string | undefined): TargetError {
  if (phase !== 'Running') return phaseProblem(project, phase)!

  return new TargetError(
    'unscheduled',
    `project "${project}" is Running but names no node (status.nodeRef is empty): ` +
    'retry in a moment, or reach the agent directly with --node host:port',
  )
}

function timedOut(project: string, state: string, timeoutMs: number): TargetError {
  return new TargetError(
    'running-timeout',
    `project "${project}" is still ${state} after ${seconds(timeoutMs)}: ` +
    'wait longer with a larger --running-timeout, check it with caractrl, ' +
    'or reach the agent directly with --node host:port',
  )
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`
}
