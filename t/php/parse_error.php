<?php
// Deliberate syntax error: the module must log it (naming this file) and
// answer this worker's requests with 503.
function ta_broken( {
    return 1;
}
