package dev.tftrt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tftrt.model.TfModel;
import dev.tftrt.pipeline.Plan;
import dev.tftrt.pipeline.PlanReport;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
    description = "Shows what conversion would do to a model, writing nothing. It lists nodes by op type, the"
        + " optimizer's work, the segments (engines) with their sizes and boundaries, each node left in TensorFlow"
        + " with the reason, and the share of compute-heavy ops (conv, matmul) inside engines. On a converted"
        + " folder it prints the report written at conversion.")
final class InspectCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL|OUTDIR", description = "Any TensorFlow model tftrt reads, or a converted folder.")
  Path model;

  @Option(names = "--json", description = "Print the report as JSON.")
  boolean json;

  @Mixin CommonOptions common;
  @Mixin BindOptions bind;
  @Mixin SegmentOptions segmentOptions;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter pw = spec.commandLine().getOut();
    if (dev.tftrt.model.ConvertedModel.isConverted(model)) {
      // A converted folder: show the report written when it was converted.
      dev.tftrt.model.ConvertedModel.readManifest(model);
      Path report = dev.tftrt.model.ConvertedModel.file(model, json ? "report.json" : "report.md", "the report");
      if (!java.nio.file.Files.exists(report)) {
        throw new dev.tftrt.TftrtException(model + " is a converted model without its " + report.getFileName() + ".");
      }
      pw.print(new String(dev.tftrt.util.InputFiles.read(report, 64L << 20, "a report"), java.nio.charset.StandardCharsets.UTF_8));
      if (json) pw.println();
      return Main.OK;
    }
    try (TfModel m = TfModel.load(bind.apply(common.load(model)))) {
      // The plan convert makes with its default backend (auto) on this machine.
      Plan p = Plan.make(m, common.shapes(), segmentOptions.options().withTarget(
          dev.tftrt.runtime.backend.Backends.runsOnCpu(dev.tftrt.runtime.backend.Backend.AUTO)
              ? dev.tftrt.segment.Segmenter.Target.CPU : dev.tftrt.segment.Segmenter.Target.GPU));
      if (json) {
        pw.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .writeValueAsString(PlanReport.of(model.toString(), p)));
      } else {
        pw.print(PlanReport.markdown(model.toString(), p));
      }
    }
    return Main.OK;
  }
}
