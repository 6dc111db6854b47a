<?php
function ta_watch_version(): string { return 'v1'; }
