package dev.tftrt;

/**
 * A problem with what the user gave us (a file, a node name, a shape): its message is one
 * sentence meant to be shown as it is. The CLI maps it to exit code 2.
 */
public class TftrtException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public TftrtException(String message) {
    super(message);
  }

  public TftrtException(String message, Throwable cause) {
    super(message, cause);
  }
}
