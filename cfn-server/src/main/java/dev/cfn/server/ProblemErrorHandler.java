package dev.cfn.server;

import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's answer to a request it refuses before any route sees it (a path that is not valid UTF-8
 * or holds an ambiguous segment, a header too large): an RFC 9457 problem like every other refusal,
 * instead of Jetty's HTML error page. Found by the request fuzzing ({@code RequestFuzzTest}).
 */
final class ProblemErrorHandler extends ErrorHandler {
  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    int status = response.getStatus();
    if (request.getAttribute(ERROR_STATUS) instanceof Integer s) {
      status = s;
    }
    if (status < 400) {
      status = 500;
    }
    String reason = HttpStatus.getMessage(status);
    String detail =
        status < 500
            ? "the request could not be read ("
                + reason
                + "; fix: send a valid HTTP/1.1 request"
                + " with a UTF-8, percent-encoded path)"
            : "the node failed to answer (" + reason + "); its log says more";
    byte[] body;
    try {
      body = Gate.JSON.writeValueAsBytes(new Problem(status, reason, detail).body("-"));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      body = ("{\"status\":" + status + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    response.setStatus(status);
    // Jetty closes a connection whose request it could not read: say so, so that no client puts
    // it back in its pool and sends its next request into a closed socket
    response.getHeaders().put(HttpHeader.CONNECTION, "close");
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, Problem.MEDIA_TYPE);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    response.write(true, ByteBuffer.wrap(body), callback);
    return true;
  }
}
