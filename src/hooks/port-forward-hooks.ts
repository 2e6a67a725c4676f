import type {Hook, Hooks} from '@oclif/core/hooks'

/**
 * What a host CLI answers to `caractrl:control-plane`: where its control plane is and how the
 * logged-in user authenticates. Every member but `url` may be left out.
 */
export type ControlPlaneAnswer = {
  /** Base URL of the control plane, `http:` or `https:`. */
  url: string
  /** Bearer token; sent to the control plane only. */
  token?: string
  /** Extra headers for control-plane requests only. */
  headers?: Record<string, string>
  /** PEM certificate authority for an `https:` control plane and `wss:` agents. */
  ca?: string
  /** Skip certificate checks; the user is warned. */
  insecureSkipTlsVerify?: boolean
}

/** Options the plugin passes with `caractrl:control-plane`; none today. */
export type ControlPlaneHookOptions = Record<string, never>

/** The control-plane settings in force once flags, hook answer and environment are merged. */
export type ControlPlaneSettings = {
  url: string
  token?: string
  headers: Record<string, string>
  ca?: string
  insecureSkipTlsVerify: boolean
}

/**
 * Options of `caractrl:resolve-agent`: the forward being set up and the control plane in
 * force, so that a handler can ask its own server where the tunnel should go.
 */
export type ResolveAgentHookOptions = {
  project: string
  service: string
  /** The container port the tunnel reaches. */
  port: number
  controlPlane: ControlPlaneSettings
}

/**
 * An answer to `caractrl:resolve-agent`. It replaces the built-in resolution for that port:
 * tunnels dial `url` as given and send exactly `headers`, nothing else.
 */
export type ResolveAgentAnswer = {
  /** `ws:` or `wss:` URL of the tunnel endpoint, path included. */
  url: string
  /** Headers for the tunnel's upgrade request. */
  headers?: Record<string, string>
}

/**
 * The hook events this plugin raises, for host CLIs that answer them. An explicit map rather
 * than an augmentation of oclif's `Hooks`, so that it compiles against core 4 and core 5.
 */
export type PortForwardHooks = Hooks & {
  'caractrl:control-plane': {
    options: ControlPlaneHookOptions
    return: ControlPlaneAnswer | undefined
  }
  'caractrl:resolve-agent': {
    options: ResolveAgentHookOptions
    return: ResolveAgentAnswer | undefined
  }
}

/** A host-side handler of `caractrl:control-plane`. */
export type ControlPlaneHook = Hook<'caractrl:control-plane', PortForwardHooks>

/** A host-side handler of `caractrl:resolve-agent`. */
export type ResolveAgentHook = Hook<'caractrl:resolve-agent', PortForwardHooks>
