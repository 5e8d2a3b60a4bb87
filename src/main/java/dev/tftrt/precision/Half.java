package dev.tftrt.precision;

/**
 * IEEE 754 binary16 conversions (Java 17 has no Float.floatToFloat16). Rounding is to nearest,
 * ties to even, as TensorRT's and ONNX Runtime's casts do; overflow gives infinity.
 */
public final class Half {
  private Half() {}

  /** The largest finite FP16 value. */
  public static final float MAX = 65504f;

  public static short fromFloat(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xff;
    int mant = bits & 0x7fffff;
    if (exp == 0xff) return (short) (sign | 0x7c00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    int e = exp - 127 + 15;
    if (e >= 0x1f) return (short) (sign | 0x7c00);
    if (e <= 0) {
      if (e < -10) return (short) sign; // below half the smallest subnormal: zero
      mant |= 0x800000;
      int shift = 14 - e;
      int h = mant >>> shift;
      int rest = mant & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rest > halfway || (rest == halfway && (h & 1) != 0)) h++;
      return (short) (sign | h);
    }
    int h = (e << 10) | (mant >>> 13);
    int rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1) != 0)) h++; // may carry into the exponent: right
    return (short) (sign | h);
  }

  public static float toFloat(short h) {
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1f;
    int mant = h & 0x3ff;
    if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
    if (exp == 0) {
      if (mant == 0) return Float.intBitsToFloat(sign);
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }

  /** f rounded to the nearest FP16 value, as a float. */
  public static float round(float f) {
    return toFloat(fromFloat(f));
  }
}
