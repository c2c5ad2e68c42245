export { startEmbeddedS3, type EmbeddedS3, type EmbeddedS3Options } from './embedded-s3.js';
export { LocalS3Server, decodeAwsChunked, type LocalS3ServerOptions } from './local-s3-server.js';
export { parseLifecycleConfiguration, ruleCovers, expiresAt, LifecycleConfigurationError, type ExpirationRule } from './bucket-lifecycle.js';
export { startLocalRedis, freePort, redisMissingMessage, type LocalRedis, type LocalRedisOptions } from './local-redis.js';
export { LocalStack, type LocalStackOptions } from './local-stack.js';
export { WorkerProcesses, workerEntry, type WorkerProcess } from './worker-processes.js';
export { localStageSettings } from './stage-settings.js';
export { waitForWorkers, ingestAndWait, checkWorkers, WorkerCrashedError } from './wait.js';
export { LocalDeployment, localDataDirs, type LocalDeploymentOptions } from './local-deployment.js';
export {
  deploymentEnvironment,
  deploymentFilePath,
  NoDeploymentError,
  processAlive,
  readDeploymentRecord,
  removeDeploymentRecord,
  runningDeployment,
  writeDeploymentRecord,
  type DeploymentRecord,
} from './deployment-file.js';
export { claimServicePort, portInUse, PortInUseError, servicePortFile } from './service-port.js';
export { secureDataDir, DataDirError, ownerOnlyUmask } from './data-dir.js';
export { deploymentCredentials, randomCredentials, credentialsFileName, type DeploymentCredentials } from './credentials.js';
export { LocalPostgres, PostgresUnavailableError, postgresMissing, defaultPostgresBinDir, type LocalPostgresOptions } from './local-postgres.js';
