import {Errors} from '@oclif/core'

import {ExitCode} from './exit-codes.js'

/**
 * The one error family of the plugin. `message` is a single line that says what went wrong
 * and what to do next; `reason` is a stable machine-readable name for the failure.
 */
export class ForwardError extends Errors.CLIError {
  readonly reason: string

  constructor(reason: string, message: string, exit: ExitCode, options: {cause?: unknown} = {}) {
    super(message, {exit})
    this.name = 'ForwardError'
    this.reason = reason
    if (options.cause !== undefined) {
      Object.defineProperty(this, 'cause', {enumerable: false, value: options.cause})
    }
  }

  get exitCode(): ExitCode {
    return (this.oclif.exit ?? ExitCode.Internal) as ExitCode
  }
}

export class UsageError extends ForwardError {
  constructor(message: string) {
    super('usage', message, ExitCode.Usage)
    this.name = 'UsageError'
  }
}

export class ControlPlaneError extends ForwardError {
  constructor(reason: string, message: string, options: {cause?: unknown} = {}) {
    super(reason, message, ExitCode.ControlPlane, options)
    this.name = 'ControlPlaneError'
  }
}

export class TargetError extends ForwardError {
  constructor(reason: string, message: string) {
    super(reason, message, ExitCode.Target)
    this.name = 'TargetError'
  }
}

export class BindError extends ForwardError {
  /** The system's error code, such as EADDRINUSE. */
  readonly systemCode: string | undefined

  constructor(message: string, options: {cause?: NodeJS.ErrnoException} = {}) {
    super('bind', message, ExitCode.Bind, options)
    this.name = 'BindError'
    this.systemCode = options.cause?.code
  }
}

/** Duck-typed so that an error from another copy of this module is still recognised. */
export function isForwardError(error: unknown): error is ForwardError {
  return error instanceof Error && typeof (error as ForwardError).reason === 'string' &&
    typeof (error as ForwardError).oclif?.exit === 'number'
}
