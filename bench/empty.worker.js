// Reference for `npm run bench`: the cheapest possible Worker, to show workerd's own cost per request on this machine.
export default {
  fetch() {
    return new Response("{}", { headers: { "content-type": "application/json" } });
  },
};
