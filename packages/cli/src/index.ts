export { ProgressBar } from './ui/progress.js';
