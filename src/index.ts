export type {
  ControlPlaneAnswer, ControlPlaneHook, ControlPlaneHookOptions, ControlPlaneSettings,
  PortForwardHooks, ResolveAgentAnswer, ResolveAgentHook, ResolveAgentHookOptions,
} from './hooks/port-forward-hooks.js'
export {ExitCode} from './errors/index.js'
