export type {
  ControlPlaneAnswer, ControlPlaneHook, ControlPlaneHookOptions, PortForwardHooks,
} from './hooks/control-plane-hook.js'
export {ExitCode} from './errors/index.js'
