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
    description = {"Shows what conversion would do to a model: nodes by op type, the optimizer's work, the",
        "segments (engines) with their sizes and boundaries, each node left in TensorFlow with the reason,",
        "and the share of compute-heavy ops (conv, matmul) inside engines."})
final class InspectCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL", description = "Any TensorFlow model tftrt reads.")
  Path model;

  @Option(names = "--json", description = "Print the report as JSON.")
  boolean json;

  @Mixin CommonOptions common;
  @Mixin SegmentOptions segmentOptions;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter pw = spec.commandLine().getOut();
    try (TfModel m = TfModel.load(common.load(model))) {
      Plan p = Plan.make(m, common.shapes(), segmentOptions.options());
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
