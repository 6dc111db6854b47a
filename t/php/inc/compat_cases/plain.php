<?php
echo str_repeat("plain text ", 20);
