package dev.tftrt.precision.calibrate;

import dev.tftrt.TftrtException;
import dev.tftrt.model.TensorSpec;
import dev.tftrt.tensor.DTypes;
import dev.tftrt.tensor.HostTensor;
import dev.tftrt.util.InputFiles;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.tensorflow.proto.DataType;

/** PNG/JPEG files decoded by javax.imageio, resized (bilinear) to the model's image input. */
final class ImageSamples {
  private ImageSamples() {}

  static boolean isImage(Path p) {
    String n = p.getFileName() == null ? "" : p.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
  }

  static Map<String, HostTensor> read(Path f, List<TensorSpec> inputs, Preprocess pre) {
    if (inputs.size() != 1) {
      throw new TftrtException("Calibration image " + f + " can feed only a model with one input, and this one has "
          + inputs.size() + ".");
    }
    TensorSpec in = inputs.get(0);
    long[] s = in.shape();
    if (s == null || s.length != 4) {
      throw new TftrtException("Calibration image " + f + " needs an image input of rank 4, and " + in.key() + " is "
          + (s == null ? "of unknown rank" : Arrays.toString(s)) + ".");
    }
    boolean nchw = pre.layout() == Preprocess.Layout.NCHW
        || (pre.layout() == Preprocess.Layout.AUTO && (s[1] == 1 || s[1] == 3) && s[3] != 1 && s[3] != 3);
    long h = nchw ? s[2] : s[1];
    long w = nchw ? s[3] : s[2];
    long c = nchw ? s[1] : s[3];
    if (h <= 0 || w <= 0 || (c != 1 && c != 3)) {
      throw new TftrtException("Calibration image " + f + " cannot be resized to input " + in.key() + " "
          + Arrays.toString(s).replace("-1", "?") + ": it needs known height and width and 1 or 3 channels (give --shape).");
    }
    boolean integer = DTypes.isInteger(in.dtype());
    if (integer && !pre.isIdentity()) {
      throw new TftrtException("Input " + in.key() + " takes " + DTypes.name(in.dtype())
          + " pixels, so --preprocess cannot scale or normalise them.");
    }
    if (in.dtype() != DataType.DT_FLOAT && in.dtype() != DataType.DT_UINT8) {
      throw new TftrtException("Calibration image " + f + " can feed a float32 or uint8 input, and " + in.key() + " is "
          + DTypes.name(in.dtype()) + ".");
    }
    BufferedImage img = decode(f);
    BufferedImage r = new BufferedImage((int) w, (int) h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = r.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(img, 0, 0, (int) w, (int) h, null);
    g.dispose();
    int n = (int) (h * w * c);
    ByteBuffer b = ByteBuffer.allocate(n * DTypes.byteSize(in.dtype())).order(ByteOrder.LITTLE_ENDIAN);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int rgb = r.getRGB(x, y);
        int[] px = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};
        if (pre.bgr()) px = new int[] {px[2], px[1], px[0]};
        for (int ch = 0; ch < c; ch++) {
          double v = c == 1 ? 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2] : px[ch];
          long at = nchw ? (ch * h + y) * w + x : ((long) y * w + x) * c + ch;
          if (integer) {
            HostTensor.putDouble(b, at, in.dtype(), Math.round(v));
          } else {
            HostTensor.putDouble(b, at, in.dtype(), (v * pre.scale() - pre.mean(ch)) / pre.std(ch));
          }
        }
      }
    }
    long[] shape = nchw ? new long[] {1, c, h, w} : new long[] {1, h, w, c};
    Map<String, HostTensor> m = new LinkedHashMap<>();
    m.put(in.key(), HostTensor.of(in.dtype(), shape, b));
    return m;
  }

  private static BufferedImage decode(Path f) {
    byte[] bytes = InputFiles.read(f, 256L << 20, "a calibration image");
    BufferedImage img;
    try {
      img = ImageIO.read(new ByteArrayInputStream(bytes));
    } catch (IOException | RuntimeException e) {
      img = null;
    }
    if (img == null) throw new TftrtException("Calibration image " + f + " is not a PNG or JPEG image that can be decoded.");
    return img;
  }
}
