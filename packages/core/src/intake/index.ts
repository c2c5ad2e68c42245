export { AdmissionGate, admissionStages, heldBackBy, type AdmissionGateOptions, type AdmissionState, type DiskCheck, type StageBacklog, type StageBounds } from './admission-gate.js';
export { BatchIntake, IntakeBatch, type BatchIntakeDeps, type ClaimOptions, type IntakeClaim } from './batch-intake.js';
