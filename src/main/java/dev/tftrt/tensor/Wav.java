package dev.tftrt.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;

/** 16-bit PCM WAV bytes, for models whose input is a sound file (DecodeWav). */
public final class Wav {
  private Wav() {}

  public static byte[] encode(short[] samples, int channels, int sampleRate) {
    int dataBytes = samples.length * 2;
    ByteBuffer b = ByteBuffer.allocate(44 + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(36 + dataBytes)
        .put("WAVE".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    b.put("fmt ".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(16)
        .putShort((short) 1) // PCM
        .putShort((short) channels).putInt(sampleRate).putInt(sampleRate * channels * 2)
        .putShort((short) (channels * 2)).putShort((short) 16);
    b.put("data".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(dataBytes);
    for (short s : samples) b.putShort(s);
    return b.array();
  }

  /** A seeded test sound: a tone whose pitch rises, plus noise. */
  public static byte[] randomClip(int samples, int channels, int sampleRate, long seed) {
    Random rnd = new Random(seed);
    double f0 = 200 + rnd.nextInt(800);
    short[] s = new short[samples * channels];
    for (int i = 0; i < samples; i++) {
      double t = (double) i / sampleRate;
      double v = 0.4 * Math.sin(2 * Math.PI * (f0 + 300 * t) * t) + 0.05 * rnd.nextGaussian();
      short q = (short) Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, Math.round(v * 32767)));
      for (int c = 0; c < channels; c++) s[i * channels + c] = q;
    }
    return encode(s, channels, sampleRate);
  }
}
