package io.ephemera.worker.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A deliberately dumb HTTP/1.1 client over a plain socket: it sends exactly the bytes it is given
 * (header values with any characters, lying Content-Length, paths a URI class would refuse, bodies
 * sent slowly) and reads one answer within a hard deadline. java.net.http would "fix" most of what
 * the fuzzer wants to send.
 */
final class RawHttp {
  private final int port;

  RawHttp(int port) {
    this.port = port;
  }

  /** One request as sent: its head (request line and headers) and body, sent at once. */
  /**
   * @param expect the status the answer must have ({@code "401"}), a class ({@code "4xx"}), or null
   *     when any 2xx or 4xx will do
   */
  record Request(
      String category,
      String method,
      String target,
      List<String[]> headers,
      byte[] body,
      String expect) {

    Request(String category, String method, String target, List<String[]> headers, byte[] body) {
      this(category, method, target, headers, body, null);
    }

    Request expecting(String status) {
      return new Request(category, method, target, headers, body, status);
    }

    Request {
      headers = List.copyOf(headers);
      body = body == null ? new byte[0] : body;
    }

    /** The head without the body; Connection: close so every answer ends with EOF too. */
    byte[] head(boolean contentLength) {
      StringBuilder b = new StringBuilder();
      b.append(method).append(' ').append(target).append(" HTTP/1.1\r\n");
      b.append("Host: 127.0.0.1\r\n");
      b.append("Connection: close\r\n");
      boolean hasLength = false;
      for (String[] h : headers) {
        b.append(h[0]).append(": ").append(h[1]).append("\r\n");
        hasLength |=
            h[0].equalsIgnoreCase("Content-Length") || h[0].equalsIgnoreCase("Transfer-Encoding");
      }
      if (contentLength && !hasLength && (body.length > 0 || !method.equals("GET"))) {
        b.append("Content-Length: ").append(body.length).append("\r\n");
      }
      b.append("\r\n");
      // Header values go out as UTF-8 bytes, as a careless client would send them.
      return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** What a failure message prints: enough to replay the request by hand. */
    String describe() {
      StringBuilder b = new StringBuilder();
      b.append("[").append(category).append("] ");
      if (expect != null) {
        b.append("(expected ").append(expect).append(") ");
      }
      b.append(method).append(' ');
      b.append(shorten(target, 300)).append('\n');
      for (String[] h : headers) {
        b.append("  ").append(h[0]).append(": ").append(shorten(h[1], 200)).append('\n');
      }
      b.append("  body (").append(body.length).append(" bytes): ");
      b.append(shorten(new String(body, StandardCharsets.UTF_8), 600));
      return b.toString();
    }
  }

  /** The answer, or {@code status} 0 when the server closed the connection without one. */
  record Answer(int status, Map<String, String> headers, byte[] body, String note) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    boolean answered() {
      return status > 0;
    }
  }

  /** Sends the request at once and reads the answer, failing after {@code deadline}. */
  Answer send(Request request, Duration deadline) throws IOException {
    try (Socket socket = connect(deadline)) {
      long end = System.nanoTime() + deadline.toNanos();
      OutputStream out = socket.getOutputStream();
      try {
        out.write(request.head(true));
        out.write(request.body());
        out.flush();
      } catch (IOException e) {
        // The server may have answered (413) and closed while the body was still going out.
        return readAnswer(socket, end, "write failed: " + e.getMessage());
      }
      return readAnswer(socket, end, null);
    }
  }

  /**
   * Sends the head (with the declared {@code Content-Length}), then the body in pieces of {@code
   * chunk} bytes every {@code pause}, stopping after {@code sendAtMost} bytes (a stall) — and reads
   * whatever the server answers. Returns as soon as the server answers or closes; fails with {@link
   * SocketTimeoutException} when it does neither within {@code deadline}.
   */
  Answer sendSlowly(Request request, int chunk, Duration pause, int sendAtMost, Duration deadline)
      throws IOException {
    try (Socket socket = connect(deadline)) {
      long end = System.nanoTime() + deadline.toNanos();
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      out.write(request.head(true));
      out.flush();
      byte[] body = request.body();
      int sent = 0;
      while (System.nanoTime() < end) {
        if (in.available() > 0) {
          break; // an answer is arriving
        }
        if (sent < Math.min(body.length, sendAtMost)) {
          int n = Math.min(chunk, Math.min(body.length, sendAtMost) - sent);
          try {
            out.write(body, sent, n);
            out.flush();
          } catch (IOException e) {
            return readAnswer(socket, end, "write failed after " + sent + " bytes: " + e);
          }
          sent += n;
        }
        // Waiting for data with a short timeout notices an answer or a close promptly.
        socket.setSoTimeout((int) Math.max(1, pause.toMillis()));
        try {
          int b = in.read();
          if (b < 0) {
            return new Answer(0, Map.of(), new byte[0], "closed after " + sent + " bytes");
          }
          return readAnswer(socket, end, null, (byte) b);
        } catch (SocketTimeoutException e) {
          // nothing yet: send the next piece
        }
      }
      throw new SocketTimeoutException(
          "no answer and no close within " + deadline + " after " + sent + " bytes");
    }
  }

  /** Opens a connection and sends only part of the head, then waits for the server to act. */
  Answer sendPartialHead(String partialHead, Duration deadline) throws IOException {
    try (Socket socket = connect(deadline)) {
      long end = System.nanoTime() + deadline.toNanos();
      socket.getOutputStream().write(partialHead.getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().flush();
      return readAnswer(socket, end, null);
    }
  }

  private Socket connect(Duration deadline) throws IOException {
    Socket socket = new Socket();
    socket.connect(
        new InetSocketAddress("127.0.0.1", port), (int) Math.min(deadline.toMillis(), 5_000));
    socket.setSoTimeout((int) deadline.toMillis());
    return socket;
  }

  private static Answer readAnswer(Socket socket, long end, String note, byte... first)
      throws IOException {
    InputStream in = socket.getInputStream();
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    raw.write(first);
    byte[] buf = new byte[8192];
    while (true) {
      long left = (end - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        throw new SocketTimeoutException("answer not complete before the deadline");
      }
      socket.setSoTimeout((int) left);
      int n;
      try {
        n = in.read(buf);
      } catch (SocketTimeoutException e) {
        throw e;
      } catch (IOException e) {
        // A reset after (part of) an answer: parse what arrived.
        n = -1;
        note = (note == null ? "" : note + "; ") + "read failed: " + e.getMessage();
      }
      if (n < 0) {
        break;
      }
      raw.write(buf, 0, n);
      Answer complete = parse(raw.toByteArray(), note, false);
      if (complete != null) {
        return complete;
      }
    }
    Answer answer = parse(raw.toByteArray(), note, true);
    return answer != null ? answer : new Answer(0, Map.of(), raw.toByteArray(), note);
  }

  /** The answer if {@code raw} holds a complete one (or all there will be, at EOF), else null. */
  private static Answer parse(byte[] raw, String note, boolean eof) {
    int headEnd = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0);
    if (headEnd < 0) {
      return null;
    }
    String[] lines = new String(raw, 0, headEnd, StandardCharsets.ISO_8859_1).split("\r\n");
    String[] statusLine = lines[0].split(" ", 3);
    int status = statusLine.length >= 2 ? Integer.parseInt(statusLine[1]) : -1;
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon > 0) {
        headers.put(
            lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
            lines[i].substring(colon + 1).trim());
      }
    }
    int bodyStart = headEnd + 4;
    byte[] rest = java.util.Arrays.copyOfRange(raw, bodyStart, raw.length);
    String length = headers.get("content-length");
    if (length != null) {
      int n = Integer.parseInt(length);
      if (rest.length < n) {
        return eof ? new Answer(status, headers, rest, note) : null;
      }
      return new Answer(status, headers, java.util.Arrays.copyOf(rest, n), note);
    }
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      byte[] body = dechunk(rest);
      if (body == null) {
        return eof ? new Answer(status, headers, rest, note) : null;
      }
      return new Answer(status, headers, body, note);
    }
    return eof ? new Answer(status, headers, rest, note) : null;
  }

  /** The body of a complete chunked encoding, or null while it is incomplete. */
  private static byte[] dechunk(byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int pos = 0;
    while (true) {
      int lineEnd = indexOf(data, "\r\n".getBytes(StandardCharsets.ISO_8859_1), pos);
      if (lineEnd < 0) {
        return null;
      }
      String sizeLine = new String(data, pos, lineEnd - pos, StandardCharsets.ISO_8859_1);
      int semi = sizeLine.indexOf(';');
      int size = Integer.parseInt((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
      pos = lineEnd + 2;
      if (size == 0) {
        return out.toByteArray();
      }
      if (data.length < pos + size + 2) {
        return null;
      }
      out.write(data, pos, size);
      pos += size + 2;
    }
  }

  private static int indexOf(byte[] data, byte[] needle, int from) {
    outer:
    for (int i = from; i <= data.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (data[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  static String shorten(String s, int max) {
    String clean = s.replace("\r", "\\r").replace("\n", "\\n");
    return clean.length() <= max
        ? clean
        : clean.substring(0, max) + "…(" + clean.length() + " chars)";
  }

  static List<String[]> headers(String... pairs) {
    List<String[]> list = new ArrayList<>();
    for (int i = 0; i < pairs.length; i += 2) {
      list.add(new String[] {pairs[i], pairs[i + 1]});
    }
    return list;
  }
}
