import {TargetError} from '../errors/index.js'

const BYPASS = 'reach the agent directly with --node host:port'

/**
 * Why a project in `phase` cannot be forwarded to, or nothing when it can. Only a Running
 * project has a container to reach; every other phase gets advice of its own.
 */
export function phaseProblem(project: string, phase: string | undefined): TargetError | undefined {
  switch (phase) {
    case 'Running': {
      return undefined
    }

    case 'Pending':
    case 'Scheduled': {
      return new TargetError(
        'not-running',
        `project "${project}" is ${phase}, not Running: wait until it runs, or ${BYPASS}`,
      )
    }

    case 'Failed': {
      return new TargetError(
        'failed',
        `project "${project}" has Failed: inspect and redeploy it with caractrl, then retry`,
      )
    }

    case 'Terminating':
    case 'Terminated': {
      return new TargetError(
        'terminating',
        `project "${project}" is ${phase}: deploy it again with caractrl, then retry`,
      )
    }

    default: {
      const shown = phase ? `in phase "${phase}"` : 'without a phase (status.phase is missing)'
      return new TargetError(
        'not-running',
        `project "${project}" is ${shown}, not Running: check it with caractrl, or ${BYPASS}`,
      )
    }
  }
}
