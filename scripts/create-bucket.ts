import { ObjectStore } from '../node_app/server/adapters/storage/object-store.js';
import { loadConfigOrExit } from '../node_app/server/config.js';

/**
 * `npm run bucket:create`: makes the distributed mode's bucket (S3_BUCKET, at S3_ENDPOINT or on AWS) with the
 * app's own configuration, for a local S3-compatible server or a new account. Nothing changes if it is there.
 */
const config = loadConfigOrExit();
if (!config.objectStore) {
  console.error('Set the bucket\'s variables first: REDIS_URL (or FILE_STORAGE=s3), S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and S3_ENDPOINT for a local server).');
  process.exit(1);
}
const { bucket, endpoint, region } = config.objectStore;
const store = new ObjectStore(config.objectStore);
try {
  const made = await store.createBucket();
  console.log(`${made ? 'created' : 'already there:'} bucket "${bucket}" at ${endpoint ?? `AWS region ${region}`}`);
} catch (error) {
  console.error(`could not create bucket "${bucket}": ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  store.close();
}
