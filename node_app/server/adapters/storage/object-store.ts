import { createReadStream, createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ObjectStoreConfig } from '../../config-distributed.js';
import type { BlobRead } from './blob-store.js';

export interface StoredObject {
  key: string;
  lastModified: Date;
}

/** Parts of a multipart upload: memory per upload is about `PART_BYTES × QUEUE_SIZE`, whatever the file. */
const PART_BYTES = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

/** A bucket, as the S3 blob store uses it; tests stand an in-memory one in for it. */
export type ObjectStorage = Pick<ObjectStore, 'putFile' | 'get' | 'getFile' | 'exists' | 'list' | 'removePrefix' | 'check' | 'close'>;

/**
 * Files in an S3 bucket (AWS, Bucketeer, or an S3-compatible server at `endpoint`), always streamed: to and
 * from files on the local disk or an HTTP response, never whole in memory.
 */
export class ObjectStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  /** Where the bucket is looked for, in a problem's message. */
  private readonly where: string;

  constructor(config: ObjectStoreConfig) {
    this.bucket = config.bucket;
    this.where = config.endpoint ?? `AWS region ${config.region}`;
    this.client = new S3Client({
      region: config.region,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      ...(config.endpoint
        ? {
            endpoint: config.endpoint,
            forcePathStyle: true,
            // S3-compatible servers do not all understand the SDK's default checksummed (aws-chunked) bodies
            // and may store the framing with the bytes; plain bodies are what every one of them accepts.
            requestChecksumCalculation: 'WHEN_REQUIRED' as const,
            responseChecksumValidation: 'WHEN_REQUIRED' as const,
          }
        : {}),
    });
  }

  /** Streams a local file into `key`, in parts, replacing what was there. */
  async putFile(key: string, file: string, contentType = 'application/octet-stream'): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: createReadStream(file), ContentType: contentType },
      partSize: PART_BYTES,
      queueSize: QUEUE_SIZE,
    });
    await upload.done();
  }

  /** The object (or the byte range, in HTTP `Range` syntax), or null if there is none. */
  async get(key: string, range?: string): Promise<BlobRead | null> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range }));
      return { body: answer.Body as Readable, length: answer.ContentLength ?? 0, contentRange: answer.ContentRange };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  /** Streams `key` into a local file; false if there is no such object. */
  async getFile(key: string, file: string): Promise<boolean> {
    const object = await this.get(key);
    if (!object) return false;
    await pipeline(object.body, createWriteStream(file));
    return true;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  /** Every object whose key starts with `prefix`, a page at a time. */
  async *list(prefix: string): AsyncGenerator<StoredObject> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (object.Key) yield { key: object.Key, lastModified: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Deletes every object under `prefix`. */
  async removePrefix(prefix: string): Promise<void> {
    const keys: string[] = [];
    for await (const object of this.list(prefix)) keys.push(object.key);
    // DeleteObjects takes at most 1000 keys a call.
    for (let at = 0; at < keys.length; at += 1000) {
      const batch = keys.slice(at, at + 1000).map((Key) => ({ Key }));
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } }));
    }
  }

  /**
   * Throws unless the bucket answers with these credentials, saying what is wrong: S3 answers a HEAD without a
   * body, so the SDK's own error for a missing bucket reads only "UnknownError".
   */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (!(error instanceof S3ServiceException)) throw error;
      const bucket = `the bucket "${this.bucket}"`;
      switch (error.$metadata.httpStatusCode) {
        case 404:
          throw new Error(`${bucket} does not exist at ${this.where}: create it (npm run bucket:create) or set S3_BUCKET to one that does`);
        case 403:
          throw new Error(`${bucket} at ${this.where} refuses these credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)`);
        case 301:
          throw new Error(`${bucket} is in another region than AWS_REGION says (${this.where})`);
        default:
          throw new Error(`${bucket} at ${this.where} answers ${error.$metadata.httpStatusCode ?? 'nothing'} (${error.name})`);
      }
    }
  }

  /** Creates the bucket for a new local or S3-compatible setup, unless it already answers; true if it was made. */
  async createBucket(): Promise<boolean> {
    try {
      await this.check();
      return false;
    } catch {
      // Missing, or not ours: creating it says which, in the server's own words.
    }
    await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    return true;
  }

  close(): void {
    this.client.destroy();
  }
}

function isMissing(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404);
}
