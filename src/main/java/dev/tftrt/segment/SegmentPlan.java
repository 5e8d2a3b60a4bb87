package dev.tftrt.segment;

import java.util.List;
import java.util.Map;

/**
 * What the segmenter decided: the segments, why each node that is not a candidate was left out
 * (node → one sentence; also the nodes of a cluster in a while loop too small for a CPU engine
 * call), and the candidate clusters dropped for being too small or beyond
 * --max-engines (as node lists).
 */
public record SegmentPlan(List<Segment> segments, Map<String, String> rejected,
    List<List<String>> droppedClusters) {}
