package dev.tftrt.bench;

import dev.tftrt.util.AtomicFiles;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.BoxChart;
import org.knowm.xchart.BoxChartBuilder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.BoxStyler;
import org.knowm.xchart.style.Styler;

/**
 * A benchmark as one PNG of two XChart charts side by side: the latency distribution of every
 * model at every batch size (box plots: median and quartiles,
 * whiskers to the furthest call within 1.5 interquartile ranges, calls beyond as crosses), and throughput per
 * batch size (bars, one per model). Rendered off screen, so it works on headless machines.
 */
public final class BenchPlot {
  /** Each chart's size; the image is two of them side by side. */
  public static final int CHART_WIDTH = 720;
  public static final int HEIGHT = 480;
  public static final int WIDTH = 2 * CHART_WIDTH;

  private BenchPlot() {}

  /** Writes the PNG to target, whole or not at all (the caller checked target with OutputTargets). */
  public static void write(BenchResult r, Path target) {
    AtomicFiles.write(target, writer(r));
  }

  /** The PNG, for {@link AtomicFiles#write(java.util.Map)} with other files; rendered now. */
  public static AtomicFiles.Writer writer(BenchResult r) {
    BufferedImage image = render(r);
    return out -> {
      if (!ImageIO.write(image, "png", out)) throw new java.io.IOException("this Java has no PNG writer");
    };
  }

  static BufferedImage render(BenchResult r) {
    System.setProperty("java.awt.headless", "true"); // before AWT's first use: no display is needed
    BufferedImage latency = BitmapEncoder.getBufferedImage(latencyChart(r));
    BufferedImage throughput = BitmapEncoder.getBufferedImage(throughputChart(r));
    BufferedImage both = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = both.createGraphics();
    try {
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, HEIGHT);
      g.drawImage(latency, 0, 0, null);
      g.drawImage(throughput, CHART_WIDTH, 0, null);
    } finally {
      g.dispose();
    }
    return both;
  }

  static BoxChart latencyChart(BenchResult r) {
    BoxChart c = new BoxChartBuilder().width(CHART_WIDTH).height(HEIGHT)
        .title("Latency per call (" + r.machine().header() + ")").yAxisTitle("ms").build();
    c.getStyler().setBoxplotCalCulationMethod(BoxStyler.BoxplotCalCulationMethod.N_LESS_1_PLUS_1);
    c.getStyler().setLegendVisible(false);
    c.getStyler().setChartBackgroundColor(Color.WHITE);
    for (int i = 0; i < r.models().get(0).batches().size(); i++) {
      for (BenchResult.ModelRun m : r.models()) {
        BenchResult.BatchRun b = m.batches().get(i);
        c.addSeries(label(m) + (b.batch() == null ? "" : " b" + b.batch()), b.latenciesMs());
      }
    }
    return c;
  }

  static CategoryChart throughputChart(BenchResult r) {
    CategoryChart c = new CategoryChartBuilder().width(CHART_WIDTH).height(HEIGHT)
        .title("Throughput per batch size" + (r.options().threads() > 1 ? " (" + r.options().threads() + " threads)" : ""))
        .xAxisTitle("batch size").yAxisTitle("samples/s").build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    c.getStyler().setChartBackgroundColor(Color.WHITE);
    c.getStyler().setYAxisMin(0.0);
    for (BenchResult.ModelRun m : r.models()) {
      List<String> x = new ArrayList<>();
      List<Double> y = new ArrayList<>();
      for (BenchResult.BatchRun b : m.batches()) {
        x.add(b.batch() == null ? "as given" : Integer.toString(b.batch()));
        y.add(b.samplesPerSecond());
      }
      c.addSeries(label(m), x, y);
    }
    return c;
  }

  /** "model: deeplab" — the role and the model's file or folder name. */
  private static String label(BenchResult.ModelRun m) {
    try {
      Path p = Path.of(m.model()).getFileName();
      return m.role() + ": " + (p == null ? m.model() : p);
    } catch (java.nio.file.InvalidPathException e) {
      return m.role() + ": " + m.model();
    }
  }
}
