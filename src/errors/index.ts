export {ExitCode} from './exit-codes.js'
export {
  BindError, ControlPlaneError, ForwardError, isForwardError, TargetError, UsageError,
} from './forward-error.js'
