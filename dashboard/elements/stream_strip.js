// The streams of a merged view, above its toolbar: a chip per stream (its colour and its name) that
// shows or hides its rows, renames it in this browser, opens it alone or takes it out of the view,
// and a field to add a stream by its URL or key. Names are data: Vue sets them as text.
import { MAX_LABEL_CHARS, colourClass, onLabelsChanged, setLabel, setPageStreams, streamName, typedLabel }
  from "stream_labels";

export default {
  template: `
    <div class="bl-streams" role="group" aria-label="Streams in this view">
      <span v-for="(stream, index) in streams" :key="stream.label_key" :data-stream="index"
            :class="['bl-stream-chip', colourClass(index), { 'bl-stream-hidden': hiddenNow.includes(stream.short) }]">
        <input v-if="editing === index" ref="rename" class="bl-stream-rename" :maxlength="maxLabel"
               :value="draft" aria-label="Name this stream (only in this browser)"
               @input="draft = $event.target.value" @keydown.enter.prevent="saveName(stream)"
               @keydown.esc.prevent.stop="editing = null" @blur="saveName(stream)">
        <button v-else type="button" class="bl-stream-toggle" :aria-pressed="String(!hiddenNow.includes(stream.short))"
                :title="hiddenNow.includes(stream.short) ? 'Show this stream\\'s rows' : 'Hide this stream\\'s rows'"
                @click="toggle(stream)">
          <span class="bl-stream-dot"></span><span class="bl-stream-name">{{ names[index] }}</span>
          <span v-if="stream.read_only" class="bl-stream-ro">read-only</span>
        </button>
        <button type="button" class="bl-stream-action bl-stream-edit" title="Rename (only in this browser)"
                aria-label="Rename this stream" @click="startRename(index)">✎</button>
        <a class="bl-stream-action bl-stream-alone" :href="alonePath(index)"
           title="Open this stream alone (older lines, search all, the send panel)"
           aria-label="Open this stream alone">↗</a>
        <button v-if="streams.length > 1" type="button" class="bl-stream-action bl-stream-remove"
                title="Take this stream out of the view" aria-label="Take this stream out of the view"
                @click="$emit('remove', { index })">×</button>
      </span>
      <form class="bl-stream-add" @submit.prevent="add">
        <input ref="adder" v-model="adding" class="bl-stream-add-input" maxlength="4096"
               placeholder="Add a stream: its URL or key" aria-label="Add a stream: paste its URL or key">
        <button type="submit" class="bl-stream-add-button" :disabled="!adding.trim()">Add</button>
      </form>
    </div>`,
  props: {
    streams: { type: Array, required: true },  // [{short, label_key, read_only}], by index in the page
    hidden: { type: Array, default: () => [] },  // the short keys of the streams hidden
  },
  data() {
    return { hiddenNow: [...this.hidden], names: [], editing: null, draft: "", adding: "", maxLabel: MAX_LABEL_CHARS };
  },
  mounted() {
    setPageStreams(this.streams);
    this.rename();
    this.stopLabels = onLabelsChanged(() => this.rename());
  },
  unmounted() {
    this.stopLabels();
  },
  methods: {
    colourClass,
    rename() {
      this.names = this.streams.map((_, index) => streamName(index));
    },
    toggle(stream) {
      const shown = this.hiddenNow.includes(stream.short);
      this.hiddenNow = shown ? this.hiddenNow.filter((short) => short !== stream.short)
        : [...this.hiddenNow, stream.short];
      this.$emit("toggle", { short: stream.short, shown });
    },
    startRename(index) {
      this.draft = typedLabel(this.streams[index].label_key);  // escaped, a name saved unchanged grew
      this.editing = index;
      this.$nextTick(() => { const input = this.$refs.rename?.[0] ?? this.$refs.rename; input?.focus(); });
    },
    saveName(stream) {
      if (this.editing === null) return;
      this.editing = null;
      setLabel(stream.label_key, this.draft);
    },
    // The page of one stream of this view: its key as this page's address gives it.
    alonePath(index) {
      return `/${location.pathname.slice(1).split("+")[index] ?? ""}`;
    },
    add() {
      const text = this.adding.trim();
      if (text) this.$emit("add", { text });
    },
  },
};
