<?php
// the settings /ini-peek reports, as a fresh PHP request has them
echo json_encode([(string) (1 / 3), ini_get('precision'), ini_get('serialize_precision'),
                  ini_get('default_charset'), date_default_timezone_get(), get_include_path()]);
