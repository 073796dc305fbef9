import net from 'node:net';

/** A multipart body by hand: the parts a well-behaved client library would refuse to send. */
export function multipartBody(boundary: string, parts: Array<{ name: string; filename?: string; content: Buffer | string }>): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n`, 'latin1'));
    chunks.push(Buffer.from(part.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

export interface RawExchange {
  socket: net.Socket;
  /** Everything the server has sent so far. */
  received(): string;
  /** Resolves when the server has closed the connection or sent a complete head, whichever first. */
  head(timeoutMs: number): Promise<string>;
  closed: Promise<void>;
}

/**
 * Opens a TCP connection and writes a request head and as much of the body as given, leaving the client in
 * control of when (or whether) the rest comes: how stalled, slow and vanishing clients are simulated.
 */
export function rawRequest(port: number, head: string, bodyStart: Buffer): RawExchange {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
  });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write(head);
  socket.write(bodyStart);
  return {
    socket,
    received: () => text,
    closed,
    head: (timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms; got ${JSON.stringify(text)}`)), timeoutMs);
        const check = () => {
          if (text.includes('\r\n\r\n')) {
            clearTimeout(timer);
            socket.off('data', check);
            resolve(text);
          }
        };
        socket.on('data', check);
        void closed.then(() => {
          clearTimeout(timer);
          resolve(text);
        });
        check();
      }),
  };
}

export function requestHead(path: string, boundary: string, contentLength: number, extra = ''): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
    `Content-Length: ${contentLength}\r\n${extra}\r\n`
  );
}
