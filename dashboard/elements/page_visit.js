// Records that this browser opened this page (the recent list on the landing page). Shows nothing.
import { rememberPage, setPageStreams } from "stream_labels";

export default {
  template: `<span hidden></span>`,
  props: { streams: { type: Array, required: true } },  // [{short, label_key, read_only}]
  mounted() {
    setPageStreams(this.streams);
    rememberPage(location.pathname, this.streams);
  },
};
