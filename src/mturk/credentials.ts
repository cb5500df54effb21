/**
 * Credentials through the AWS SDK's standard providers: named profiles (with session tokens, SSO,
 * roles, credential processes), the default chain, or static keys. hitstate only reads
 * `~/.aws/credentials` and `~/.aws/config` (or the files `AWS_SHARED_CREDENTIALS_FILE` and
 * `AWS_CONFIG_FILE` name); it never writes them (Mephisto's positional rewrite corrupted them, #766).
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fromIni } from '@aws-sdk/credential-provider-ini';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { HitstateError } from '../errors.js';
import type { CredentialSource } from './environment.js';

/** The shared credentials and config files the SDK reads, honouring the same variables it does. */
export function sharedFilePaths(env: NodeJS.ProcessEnv = process.env): {
  readonly credentials: string;
  readonly config: string;
} {
  const home = env.HOME || env.USERPROFILE || homedir();
  const expand = (p: string): string => (p.startsWith('~/') ? join(home, p.slice(2)) : p);
  return {
    credentials: expand(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials')),
    config: expand(env.AWS_CONFIG_FILE || join(home, '.aws', 'config')),
  };
}

function sections(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new HitstateError(
      'HST_ERR_CREDENTIALS_UNUSABLE',
      `cannot read the AWS file ${path}: ${(err as Error).message}`,
      { file: path, cause: err },
    );
  }
  return [...text.matchAll(/^\s*\[\s*([^\]]+?)\s*\]\s*$/gm)].map((m) => m[1]!);
}

/**
 * The profile names defined in the shared files: `[name]` in the credentials file, `[profile name]`
 * or `[default]` in the config file (the SDK's rules).
 */
export function listProfiles(env: NodeJS.ProcessEnv = process.env): Set<string> {
  const paths = sharedFilePaths(env);
  const names = new Set(sections(paths.credentials));
  for (const s of sections(paths.config)) {
    if (s === 'default') names.add(s);
    else if (s.startsWith('profile ')) names.add(s.slice('profile '.length).trim());
  }
  return names;
}

/**
 * Checks, before any call, that a named profile exists.
 *
 * @throws HitstateError `HST_ERR_CREDENTIALS_PROFILE_NOT_FOUND` naming the profile, the files
 *   searched and the command that creates it.
 */
export function assertProfileExists(profile: string, env: NodeJS.ProcessEnv = process.env): void {
  if (listProfiles(env).has(profile)) return;
  const paths = sharedFilePaths(env);
  throw new HitstateError(
    'HST_ERR_CREDENTIALS_PROFILE_NOT_FOUND',
    `AWS profile "${profile}" was not found in ${paths.credentials} or ${paths.config}. Create it with \`aws configure --profile ${profile}\` (add aws_session_token for temporary credentials), or pass another profile name.`,
    { field: 'credentials.profile' },
  );
}

function describe(source: CredentialSource): string {
  switch (source.kind) {
    case 'profile':
      return `AWS profile "${source.profile}"`;
    case 'defaultChain':
      return 'the default AWS credential chain';
    case 'static':
      return `the static access key ${source.accessKeyId}`;
  }
}

/** The fix to suggest when credentials from `source` are unusable. */
export function credentialsFix(source: CredentialSource): string {
  switch (source.kind) {
    case 'profile':
      return `refresh the keys of profile "${source.profile}" (\`aws configure --profile ${source.profile}\`, \`aws sso login --profile ${source.profile}\`, or a new session token)`;
    case 'defaultChain':
      return 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), or configure the default profile';
    case 'static':
      return 'pass a valid access key id and secret access key';
  }
}

/** The `HST_ERR_CREDENTIALS_UNUSABLE` error for `source`, with `reason` and the fix. */
export function unusableCredentials(
  source: CredentialSource,
  requester: string,
  reason: string,
  cause?: unknown,
): HitstateError {
  return new HitstateError(
    'HST_ERR_CREDENTIALS_UNUSABLE',
    `requester "${requester}": ${describe(source)} gave no usable credentials (${reason}); ${credentialsFix(source)}`,
    { field: 'credentials', ...(cause === undefined ? {} : { cause }) },
  );
}

/**
 * A credentials provider for `source`. Named profiles are checked for existence now; resolution
 * failures later (missing keys, broken SSO) become `HST_ERR_CREDENTIALS_UNUSABLE`.
 *
 * @throws HitstateError `HST_ERR_CREDENTIALS_PROFILE_NOT_FOUND`, `HST_ERR_CONFIG_INVALID` for empty static keys.
 */
export function credentialProvider(source: CredentialSource, requester: string): AwsCredentialIdentityProvider {
  let inner: AwsCredentialIdentityProvider;
  switch (source.kind) {
    case 'profile':
      assertProfileExists(source.profile);
      inner = fromIni({ profile: source.profile });
      break;
    case 'defaultChain':
      inner = defaultProvider();
      break;
    case 'static': {
      if (source.accessKeyId === '' || source.secretAccessKey === '') {
        throw new HitstateError(
          'HST_ERR_CONFIG_INVALID',
          `requester "${requester}": static credentials need a non-empty accessKeyId and secretAccessKey`,
          { field: 'credentials' },
        );
      }
      const identity: AwsCredentialIdentity = {
        accessKeyId: source.accessKeyId,
        secretAccessKey: source.secretAccessKey,
        ...(source.sessionToken === undefined ? {} : { sessionToken: source.sessionToken }),
      };
      inner = async () => identity;
      break;
    }
  }
  return async (props) => {
    let identity: AwsCredentialIdentity;
    try {
      identity = await inner(props);
    } catch (err) {
      throw unusableCredentials(source, requester, err instanceof Error ? err.message : String(err), err);
    }
    if (!identity.accessKeyId || !identity.secretAccessKey)
      throw unusableCredentials(source, requester, 'the access key id or secret is empty');
    return identity;
  };
}
